import type { Decision } from './circuit'

/**
 * One message through the configured providers in order (docs/design/messaging.md, "The life of
 * a message"): a retryable failure (5xx, 429, timeout, network) moves to the next provider, a
 * permanent one (the message was refused) stops, a provider whose circuit is open is skipped.
 *
 * Pure, so the types are declared here rather than taken from contracts/messaging.ts; they are
 * the same shapes (Attempt, ProviderResult), and `K` is contracts' ProviderKind in use.
 */

export interface Attempt<K extends string = string> {
  provider: K
  status: 'sent' | 'retryable' | 'permanent' | 'skipped'
  /** ISO time. */
  at: string
  httpStatus?: number
  error?: string
}

export type ProviderResult =
  | { ok: true; providerMessageId?: string; httpStatus?: number }
  | { ok: false; retryable: boolean; error: string; httpStatus?: number }

export interface FallbackProvider<K extends string = string> {
  kind: K
  /** From the provider health object: probe is tried like use. */
  decision: Decision
  send: () => Promise<ProviderResult>
}

export type FallbackOutcome<K extends string = string> =
  | { status: 'sent'; provider: K; providerMessageId?: string }
  | { status: 'permanent'; error: string }
  | { status: 'retryable'; error: string }

export const ALL_SKIPPED = 'Every provider is skipped: their circuits are open'

export async function sendWithFallback<K extends string>(
  providers: readonly FallbackProvider<K>[],
  now: () => number,
): Promise<{ attempts: Attempt<K>[]; outcome: FallbackOutcome<K> }> {
  const attempts: Attempt<K>[] = []
  let lastError: string | undefined
  for (const { kind, decision, send } of providers) {
    if (decision === 'skip') {
      attempts.push({ provider: kind, status: 'skipped', at: iso(now) })
      continue
    }
    const result = await sendSafely(send)
    const at = iso(now)
    const httpStatus = result.httpStatus === undefined ? {} : { httpStatus: result.httpStatus }
    if (result.ok) {
      attempts.push({ provider: kind, status: 'sent', at, ...httpStatus })
      const id = result.providerMessageId
      return {
        attempts,
        outcome: {
          status: 'sent',
          provider: kind,
          ...(id === undefined ? {} : { providerMessageId: id }),
        },
      }
    }
    const status = result.retryable ? 'retryable' : 'permanent'
    attempts.push({ provider: kind, status, at, ...httpStatus, error: result.error })
    if (!result.retryable) return { attempts, outcome: { status, error: result.error } }
    lastError = result.error
  }
  return { attempts, outcome: { status: 'retryable', error: lastError ?? ALL_SKIPPED } }
}

/**
 * What the provider health object is told of one message: each provider tried and how it
 * answered, skipped ones left out (they were not asked).
 */
export function healthOutcomes<K extends string>(
  attempts: readonly Attempt<K>[],
): { id: K; ok: boolean; retryable: boolean }[] {
  return attempts
    .filter((attempt) => attempt.status !== 'skipped')
    .map((attempt) => ({
      id: attempt.provider,
      ok: attempt.status === 'sent',
      retryable: attempt.status === 'retryable',
    }))
}

/** Provider clients answer failures as values; one that throws anyway is a retryable failure. */
async function sendSafely(send: () => Promise<ProviderResult>): Promise<ProviderResult> {
  try {
    return await send()
  } catch (error) {
    return {
      ok: false,
      retryable: true,
      error: error instanceof Error ? error.message : String(error),
    }
  }
}

function iso(now: () => number) {
  return new Date(now()).toISOString()
}
