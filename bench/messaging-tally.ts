/**
 * The messaging section's books, pure so a node test can check them: what the send API made,
 * what D1 says became of each message, and what the fake provider accepted, set against each
 * other. A message is lost when the provider never accepted it and Cairn does not say it failed,
 * unless it is still waiting out a retry's backoff; duplicated when the provider accepted it more
 * than once.
 */

/** One `POST /api/messages/send` as the bench made it and Cairn answered it. */
export interface SendRecord {
  messageId: string
  /** The status the contact's object gave it at once: `queued` unless something stopped it. */
  status: string
  duplicate: boolean
  /** What the provider should receive for it. */
  to: string
  subject: string
}

/** A second send with an idempotency key already used, and the message its first send made. */
export interface ResendRecord {
  originalId: string
  messageId: string
  duplicate: boolean
}

/** A message's row in D1 `messages`, attempts parsed. */
export interface MessageRow {
  id: string
  status: string
  reason: string | null
  attempts: { provider: string; status: string; at?: string }[]
  createdAt: string
  updatedAt: string
}

export interface Acceptance {
  to: string
  subject: string
}

export interface Tally {
  /** Distinct messages the sends made (each send of a new idempotency key makes one). */
  created: number
  /** Of them, stopped at once by the contact's object (no consent, suppressed, capped). */
  refusedAtCreation: number
  /** Sends that reused a key, and of them those answered with another message or not as a duplicate. */
  resends: number
  resendsNotDuplicate: number
  /** D1 statuses of the messages made. */
  statuses: Record<string, number>
  /** Messages made with no row in D1. */
  missingRows: number
  /** Still queued (not settled) when the wait ended, rows missing included. */
  unsettled: number
  /** Of them, queued with no delivery due: not waiting out a retry's backoff (see `stuck`). */
  stuck: number
  /** Accepted by the provider at least once, and more than once. */
  accepted: number
  duplicated: number
  /** Acceptances beyond each message's first. */
  extraAcceptances: number
  /**
   * Never accepted and not failed in Cairn: stuck, or `sent` that the provider never saw. A
   * message waiting out its retry's backoff is not lost (yet): it is unsettled and not stuck.
   */
  lost: number
  lostButSent: number
  /** Accepted by the provider while D1 says the message failed or is still queued. */
  acceptedNotSent: number
  /** Acceptances of message ids the sends never made. */
  unknownAccepted: number
  /** Accepted with another recipient or subject than its contact's. */
  misaddressed: number
  /** Queue deliveries per message (a delivery starts with the first provider, tried or skipped). */
  deliveries: Record<string, number>
  /** Queue deliveries of all messages. */
  deliveriesTotal: number
  /** Messages that needed more than one delivery. */
  retried: number
  /** Deliveries in which every provider was skipped (their circuits open). */
  allSkippedDeliveries: number
  /** Per provider, attempts by status. */
  attempts: Record<string, Record<string, number>>
  /** Why messages failed, by reason (cut to 120 characters). */
  failureReasons: Record<string, number>
}

export function tallyMessages(input: {
  sends: readonly SendRecord[]
  resends: readonly ResendRecord[]
  rows: readonly MessageRow[]
  accepted: ReadonlyMap<string, readonly Acceptance[]>
  /** The provider tried first: each delivery records an attempt on it. */
  firstProvider: string
  /** When the books were read (ms since the epoch): a queued message may be waiting until then. */
  now: number
}): Tally {
  const made = new Map<string, SendRecord>()
  for (const send of input.sends) if (!made.has(send.messageId)) made.set(send.messageId, send)
  const rows = new Map(input.rows.map((row) => [row.id, row]))

  const tally: Tally = {
    created: made.size,
    refusedAtCreation: 0,
    resends: input.resends.length,
    resendsNotDuplicate: input.resends.filter((r) => r.messageId !== r.originalId || !r.duplicate)
      .length,
    statuses: {},
    missingRows: 0,
    unsettled: 0,
    stuck: 0,
    accepted: 0,
    duplicated: 0,
    extraAcceptances: 0,
    lost: 0,
    lostButSent: 0,
    acceptedNotSent: 0,
    unknownAccepted: 0,
    misaddressed: 0,
    deliveries: {},
    deliveriesTotal: 0,
    retried: 0,
    allSkippedDeliveries: 0,
    attempts: {},
    failureReasons: {},
  }
  const add = (counts: Record<string, number>, key: string) => {
    counts[key] = (counts[key] ?? 0) + 1
  }

  for (const [id, send] of made) {
    const row = rows.get(id)
    const status = row?.status ?? 'missing'
    add(tally.statuses, status)
    if (!row) tally.missingRows++
    const isStuck = stuck(row, input.firstProvider, input.now)
    if (status === 'queued' || !row) tally.unsettled++
    if (isStuck) tally.stuck++
    if (send.status !== 'queued') tally.refusedAtCreation++
    const acceptances = input.accepted.get(id) ?? []
    if (acceptances.length > 0) tally.accepted++
    if (acceptances.length > 1) tally.duplicated++
    tally.extraAcceptances += Math.max(0, acceptances.length - 1)
    if (acceptances.some((a) => a.to !== send.to || a.subject !== send.subject)) {
      tally.misaddressed++
    }
    const expected = send.status === 'queued'
    const pending = status === 'queued' && !isStuck
    if (expected && acceptances.length === 0 && status !== 'failed' && !pending) {
      tally.lost++
      if (status === 'sent') tally.lostButSent++
    }
    if (acceptances.length > 0 && (status === 'failed' || status === 'queued' || !row)) {
      tally.acceptedNotSent++
    }
    if (status === 'failed') add(tally.failureReasons, (row?.reason ?? '').slice(0, 120))
    if (!row) continue
    const deliveries = deliveriesOf(row.attempts, input.firstProvider)
    if (expected) add(tally.deliveries, deliveries >= 5 ? '5+' : String(deliveries))
    tally.deliveriesTotal += deliveries
    if (deliveries > 1) tally.retried++
    tally.allSkippedDeliveries += allSkipped(row.attempts, input.firstProvider)
    for (const attempt of row.attempts) {
      add((tally.attempts[attempt.provider] ??= {}), attempt.status)
    }
  }
  for (const id of input.accepted.keys()) if (!made.has(id)) tally.unknownAccepted++
  return tally
}

/** Queue deliveries that reached the providers: each records its first provider, tried or skipped. */
export function deliveriesOf(
  attempts: readonly { provider: string }[],
  firstProvider: string,
): number {
  return attempts.filter((attempt) => attempt.provider === firstProvider).length
}

/**
 * The send consumer's backoff before the next delivery of a message every provider refused
 * retryably (edge/messaging/send-consumer.ts retryDelay, restated here: that module runs in
 * workerd, not in this process): 5 s doubling to 300 s.
 */
export function retryDelaySeconds(delivery: number): number {
  return Math.min(5 * 2 ** (delivery - 1), 300)
}

/** Beyond the backoff: the queue's own dispatch and a batch of sends ahead of it. */
const DELIVERY_SLACK_MS = 30_000

/**
 * A message still queued whose next delivery is overdue: never delivered (or missing from D1)
 * more than DELIVERY_SLACK_MS after it was made, or retried and not delivered again within its
 * backoff and that slack. A message waiting out its backoff is not stuck.
 */
export function stuck(row: MessageRow | undefined, firstProvider: string, now: number): boolean {
  if (!row) return true
  if (row.status !== 'queued') return false
  const deliveries = deliveriesOf(row.attempts, firstProvider)
  const since = Date.parse(row.attempts.at(-1)?.at ?? row.createdAt)
  const wait = deliveries === 0 ? 0 : retryDelaySeconds(deliveries) * 1000
  return now > since + wait + DELIVERY_SLACK_MS
}

/** Deliveries of one message in which no provider was asked. */
function allSkipped(
  attempts: readonly { provider: string; status: string }[],
  firstProvider: string,
): number {
  let count = 0
  let delivery: { status: string }[] = []
  const close = () => {
    if (delivery.length > 0 && delivery.every((a) => a.status === 'skipped')) count++
  }
  for (const attempt of attempts) {
    if (attempt.provider === firstProvider) {
      close()
      delivery = []
    }
    delivery.push(attempt)
  }
  close()
  return count
}

/**
 * Seconds from `startMs` until each share of `total` messages had settled (sent or failed in
 * D1, by the time the contact's object settled it); null where fewer than that share settled.
 */
export function settleSeconds(
  rows: readonly MessageRow[],
  startMs: number,
  total: number,
  shares: readonly number[],
): (number | null)[] {
  const times = rows
    .filter((row) => row.status !== 'queued')
    .map((row) => (Date.parse(row.updatedAt) - startMs) / 1000)
    .sort((a, b) => a - b)
  return shares.map((share) => {
    const needed = Math.ceil(share * total)
    return needed <= times.length && needed > 0 ? times[needed - 1]! : null
  })
}

/** Messages lost or duplicated as a share of those made: the "error rate". */
export function errorRate(tally: Tally): number {
  return tally.created === 0 ? 0 : (tally.lost + tally.duplicated) / tally.created
}
