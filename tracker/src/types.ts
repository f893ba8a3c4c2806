export type Purpose = 'analytics' | 'marketing' | 'personalization' | 'advertising'
export type Purposes = Partial<Record<Purpose, boolean>>
export type Props = Record<string, unknown>

/** A Segment message as the tracker builds it. */
export interface Message {
  type: 'page' | 'track' | 'identify' | 'group' | 'alias'
  messageId: string
  timestamp: string
  anonymousId?: string
  userId?: string
  context: Props
  [field: string]: unknown
}

/**
 * Everything the tracker remembers, persisted as JSON under the localStorage key `cairn`. The
 * one-letter keys are the storage format: keep them stable across releases.
 */
export interface State {
  /** anonymousId */
  a?: string
  /** userId */
  u?: string
  /** session id: the epoch ms at which the session started */
  s?: number
  /** time of the last event, epoch ms (a session ends after 30 minutes without one) */
  t?: number
  /** the session's campaign: UTM parameters and click ids from its landing URL */
  c?: Props
  /** consent decision; absent until one is known */
  k?: Purposes
  /** messages waiting to be delivered (the offline queue), oldest first */
  q: Message[]
}
