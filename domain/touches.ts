/**
 * When an event is a marketing touch. Pure: no platform imports.
 * A touch is the entry of a session (a visit): the first event of a new session, or a new
 * campaign arriving mid-session (as GA4 starts a new session on a campaign change). Sessions
 * end after 30 minutes without events, or when the tracker's session id changes.
 */

export const SESSION_GAP_MS = 30 * 60_000

export interface TouchCandidate {
  at: number
  sessionId?: string
  /** Channel of the page the event happened on (see channel.ts); undefined for server events. */
  channel?: string
  /** The event arrived from outside the site (no same-site referrer). */
  landing: boolean
  campaign?: Record<string, string>
}

export interface LastActivity {
  /** Time of the contact's previous event. */
  at: number
  sessionId?: string
  /** Campaign key of the contact's last touch. */
  campaignKey?: string
}

export interface NewTouch {
  at: number
  channel: string
  campaign?: string
  source?: string
  medium?: string
}

export function campaignKey(campaign: Record<string, string> | undefined): string | undefined {
  if (!campaign) return undefined
  const parts = [campaign.source, campaign.medium, campaign.name].filter(Boolean)
  return parts.length > 0 ? parts.join('/') : undefined
}

/**
 * The event happened on the site (a page, so a channel), rather than being sent by a server:
 * only such events start or extend a visit.
 */
export function onSite<T extends { channel?: string }>(event: T): event is T & { channel: string } {
  return event.channel !== undefined
}

export function touchOf(event: TouchCandidate, last: LastActivity | null): NewTouch | null {
  if (!onSite(event)) return null
  const newSession =
    !last ||
    event.at - last.at > SESSION_GAP_MS ||
    (event.sessionId !== undefined &&
      last.sessionId !== undefined &&
      event.sessionId !== last.sessionId)
  const key = campaignKey(event.campaign)
  const newCampaign = event.landing && key !== undefined && key !== last?.campaignKey
  if (!newSession && !newCampaign) return null
  return {
    at: event.at,
    channel: event.landing ? event.channel : 'direct',
    campaign: event.campaign?.name,
    source: event.campaign?.source,
    medium: event.campaign?.medium,
  }
}
