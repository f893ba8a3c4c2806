/**
 * Whether a contact may get a message now, and when: consent, subscriptions, a suppressed
 * address, frequency caps and quiet hours. The contact's object asks these with its own state at
 * the moment it creates a message and again at the moment the message is sent.
 */

export type Audience = 'marketing' | 'transactional'

export interface Reachability {
  kind: Audience
  /** The contact's effective marketing consent; null when no decision was recorded. */
  marketingConsent: boolean | null
  /** The message's group: the contact's explicit choice, or null when it never chose. */
  groupChoice: boolean | null
  /** Whether the group counts a contact who never chose as subscribed (an opt-out group). */
  groupDefault: boolean
  /** The contact's explicit choice for all marketing (the `marketing` group), or null. */
  allMarketingChoice: boolean | null
  /** The address bounced hard or complained. */
  addressSuppressed: boolean
  hasAddress: boolean
}

export type Verdict =
  { ok: true } | { ok: false; status: 'no_consent' | 'suppressed'; reason: string }

/**
 * Marketing needs the contact's marketing consent, given (never assumed), the group's opt-in
 * and an address that did not bounce hard or complain. Transactional mail (a receipt, a password
 * reset) is owed to the person whatever their marketing choices: only an explicit unsubscribe
 * from its own group stops it.
 */
export function reachable(r: Reachability): Verdict {
  if (!r.hasAddress) return { ok: false, status: 'suppressed', reason: 'no email address' }
  if (r.kind === 'transactional') {
    return r.groupChoice === false
      ? { ok: false, status: 'suppressed', reason: 'unsubscribed from the group' }
      : { ok: true }
  }
  if (r.marketingConsent !== true) {
    return { ok: false, status: 'no_consent', reason: 'no marketing consent' }
  }
  if (r.allMarketingChoice === false) {
    return { ok: false, status: 'suppressed', reason: 'unsubscribed from all marketing' }
  }
  if (!(r.groupChoice ?? r.groupDefault)) {
    return { ok: false, status: 'suppressed', reason: 'not subscribed to the group' }
  }
  if (r.addressSuppressed) {
    return { ok: false, status: 'suppressed', reason: 'the address bounced or complained' }
  }
  return { ok: true }
}

export interface FrequencyCap {
  count: number
  perMs: number
}

/** Whether `count` marketing messages already went out within `perMs` before `now`. */
export function capReached(sentAt: readonly number[], cap: FrequencyCap, now: number): boolean {
  const since = now - cap.perMs
  return sentAt.filter((at) => at > since && at <= now).length >= cap.count
}

export interface QuietHours {
  /** Local wall-clock time, "HH:MM". */
  start: string
  end: string
}

const MINUTE_MS = 60_000
const DAY_MINUTES = 24 * 60

function minutesOf(clock: string): number {
  const [hours, minutes] = clock.split(':').map(Number)
  return hours! * 60 + minutes!
}

/** Minutes since local midnight in `timeZone`, and the seconds past that minute in ms. */
function localClock(now: number, timeZone: string): { minutes: number; rest: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(now))
  const hour = Number(parts.find((p) => p.type === 'hour')!.value)
  const minute = Number(parts.find((p) => p.type === 'minute')!.value)
  return { minutes: hour * 60 + minute, rest: now % MINUTE_MS }
}

/**
 * When quiet hours end, if `now` falls inside them in the contact's time zone; null when a
 * message may go now. A window may span midnight ("21:00" to "08:00"). The end is counted in
 * wall-clock minutes from now, so across a daylight-saving change it can be an hour off, which
 * only moves a delayed message by that hour.
 */
export function quietUntil(now: number, quiet: QuietHours, timeZone: string): number | null {
  const start = minutesOf(quiet.start)
  const end = minutesOf(quiet.end)
  if (start === end) return null
  const { minutes, rest } = localClock(now, timeZone)
  const inside = start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end
  if (!inside) return null
  const wait = (end - minutes + DAY_MINUTES) % DAY_MINUTES
  return now - rest + wait * MINUTE_MS
}

/** A time zone the runtime knows, or null: an unknown one must not stop a message. */
export function knownTimeZone(zone: string | null | undefined): string | null {
  if (!zone) return null
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone: zone })
    return zone
  } catch {
    return null
  }
}

/** How far along a sent message is: feedback only ever moves it forward. */
const PROGRESS: Record<string, number> = {
  sent: 1,
  delivered: 2,
  opened: 3,
  clicked: 4,
  bounced: 5,
  complained: 6,
}

/**
 * The status a message takes on feedback, or null when it stays: an open after a click, or a
 * late delivery report after a bounce, changes nothing; bounced and complained are final.
 */
export function statusAfter(current: string, feedback: string): string | null {
  if (feedback === 'unsubscribed') return null
  const from = PROGRESS[current]
  const to = PROGRESS[feedback]
  if (from === undefined || to === undefined) return null
  if (from >= PROGRESS.bounced!) return null
  return to > from ? feedback : null
}
