/**
 * One email provider's circuit breaker (docs/design/messaging.md, "Circuit breaker"). Pure: the
 * caller passes the time, durable/provider-health.ts stores the state so every isolate shares it.
 *
 * Closed until FAILURES_TO_OPEN retryable failures in a row; then open for a cool-down. When it
 * has passed, one caller is granted the probe (half-open) and everyone else skips the provider
 * until the probe's outcome is reported: a success closes the circuit, a failure opens it again
 * for twice as long, up to MAX_COOL_DOWN_MS. The probe is a lease, so a caller that died with it
 * does not keep the provider shut for ever.
 */

export const FAILURES_TO_OPEN = 5
export const FIRST_COOL_DOWN_MS = 30_000
export const MAX_COOL_DOWN_MS = 600_000
/** Longer than a send with its timeout takes (10 s), short beside the cool-downs. */
export const PROBE_LEASE_MS = 30_000

export interface Circuit {
  state: 'closed' | 'open' | 'half_open'
  /** Retryable failures in a row. */
  failures: number
  /** While open: the end of the cool-down (ms since the epoch). */
  openUntil: number | null
  /** The cool-down of the next opening. */
  coolDownMs: number
  /** While half-open: when the probe granted stops holding the provider. */
  probeLeaseUntil: number | null
}

/** use: send through it; probe: send one message to see whether it is back; skip: do not. */
export type Decision = 'use' | 'probe' | 'skip'

export const CLOSED: Circuit = {
  state: 'closed',
  failures: 0,
  openUntil: null,
  coolDownMs: FIRST_COOL_DOWN_MS,
  probeLeaseUntil: null,
}

export function available(circuit: Circuit, now: number): Decision {
  switch (circuit.state) {
    case 'closed':
      return 'use'
    case 'open':
      return now < circuit.openUntil! ? 'skip' : 'probe'
    case 'half_open':
      return now < circuit.probeLeaseUntil! ? 'skip' : 'probe'
  }
}

/** Hands the probe to one caller; the circuit must be due one (`available` says `probe`). */
export function grantProbe(circuit: Circuit, now: number): Circuit {
  if (available(circuit, now) !== 'probe') throw new Error('No probe is due')
  return { ...circuit, state: 'half_open', probeLeaseUntil: now + PROBE_LEASE_MS }
}

/**
 * The provider answered: it sent the message, or refused it as bad (a permanent failure says
 * nothing against the provider, which answered). Closes the circuit and forgets its history.
 */
export function recordSuccess(): Circuit {
  return CLOSED
}

/** A retryable failure: 5xx, 429, a timeout, the network. */
export function recordFailure(circuit: Circuit, now: number): Circuit {
  const failures = circuit.failures + 1
  switch (circuit.state) {
    case 'closed':
      return failures < FAILURES_TO_OPEN
        ? { ...circuit, failures }
        : { ...circuit, state: 'open', failures, openUntil: now + circuit.coolDownMs }
    case 'half_open': {
      const coolDownMs = Math.min(circuit.coolDownMs * 2, MAX_COOL_DOWN_MS)
      return {
        state: 'open',
        failures,
        openUntil: now + coolDownMs,
        coolDownMs,
        probeLeaseUntil: null,
      }
    }
    case 'open':
      // A send decided before the circuit opened, reported late: the cool-down stands.
      return { ...circuit, failures }
  }
}

/** One provider's outcome as the send consumer reports it. */
export function recordOutcome(
  circuit: Circuit,
  outcome: { ok: boolean; retryable: boolean },
  now: number,
): Circuit {
  return !outcome.ok && outcome.retryable ? recordFailure(circuit, now) : recordSuccess()
}
