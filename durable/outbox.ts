import { bundleTexts, queueText, type QueuedMessage } from '../contracts/queue-messages'
import type { ContactMeta } from './contact-meta'

const encoder = new TextEncoder()

/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

/** The meta key of the mark: every event with a seq up to it was sent, or needs no sending. */
export const SHIPPED_SEQ_KEY = 'shipped_seq'

/** Conversions go to their own queue, delivered at once; everything else in bulk. */
export interface OutboxQueues {
  events: Queue<string>
  conversions: Queue<string>
}

/**
 * The messages of stored events after a seq that still need sending, made again from the events
 * table (none when every one was delivered after all).
 */
export interface Resend {
  messages: QueuedMessage[]
  /** The newest event seq they settle. */
  through: number
}

const QUEUES = ['events', 'conversions'] as const

/**
 * One queue message (a bundle, see contracts/queue-messages.ts), its queue, the transaction it came
 * from, and what its delivery settles: an outbox row to delete, events up to a seq.
 */
interface Entry {
  transaction: number
  row?: number
  through?: number
  queue: keyof OutboxQueues
  json: string
}

/**
 * A Durable Object's outbox: what its transactions produced for the queues, sent after the
 * commit, and never lost if the object stops in between (delivery is at least once; the
 * consumer is idempotent). Stored events need no copy: the events table holds them, and the mark
 * SHIPPED_SEQ_KEY in meta says up to which seq they were sent, so their messages (and the
 * touches they made, and the contact snapshot that goes with them) are made again from the
 * tables for whatever lies past the mark. Every other message (conversions, consent, merges,
 * withheld events) exists nowhere else and is written to the outbox table, one row per
 * transaction, deleted once sent (a commit of its own after the send).
 *
 * A confirmed send moves the mark in memory; the next transaction writes it. So an event costs
 * its transaction's commit and nothing more, where a row per transaction and its delete after the
 * send cost a fifth to a third of single-event throughput here (bench/results/2026-11-25-outbox.md). The price: an object that stops
 * with its last send unconfirmed on disk sends those events again when it next sends (`send`).
 */
export class Outbox {
  private staged: QueuedMessage[] = []
  private stagedFromEvents: QueuedMessage[] = []
  private stagedThrough = 0
  private pending: Entry[] = []
  private transactions = 0
  /** Newest event seq known sent; undefined until read from the mark. */
  private confirmed?: number
  /**
   * The in-memory list may miss something (an earlier instance stopped, a send failed, a
   * transaction rolled back): the next send starts from the table and the mark.
   */
  private stale = false
  /** Sends run one after another, so the mark only passes events that were sent. */
  private sending: Promise<void> = Promise.resolve()
  /** Events up to this seq were stored by an earlier instance, those past the mark unsent. */
  private inherited?: number

  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: ContactMeta,
    private readonly queues: () => OutboxQueues,
    /** Makes the messages of the events after a seq; reads the table before its first await. */
    private readonly resend: (after: number, upTo?: number) => Promise<Resend | null>,
  ) {}

  /** A message with no other copy: written to the outbox table at `commit`. */
  add(message: QueuedMessage) {
    this.staged.push(message)
  }

  /** A message made from stored events up to `seq` (an event, the snapshot that follows them). */
  addFromEvents(message: QueuedMessage, seq: number) {
    this.stagedFromEvents.push(message)
    this.stagedThrough = Math.max(this.stagedThrough, seq)
  }

  /**
   * Events from `first` to `last` were stored already sent (a hand-over from a merged contact):
   * if everything before them was sent, the mark passes over them.
   */
  alreadySent(first: number, last: number) {
    if (this.mark() >= first - 1) this.confirmed = last
  }

  /**
   * Call inside the transaction, before the meta values are written: writes the messages that
   * need a row as one row, moves the mark to what was confirmed since the last commit, and
   * queues the transaction's messages for `send`. Returns whether it queued any.
   */
  commit(): boolean {
    const withRow = this.staged
    const fromEvents = this.stagedFromEvents
    const through = this.stagedThrough
    this.staged = []
    this.stagedFromEvents = []
    this.stagedThrough = 0
    this.writeMark()
    if (withRow.length === 0 && fromEvents.length === 0) return false
    const transaction = ++this.transactions
    const texts = withRow.map(queueText)
    const row =
      withRow.length === 0
        ? undefined
        : this.sql
            .exec<{ seq: number }>(
              'INSERT INTO outbox (body) VALUES (?) RETURNING seq',
              `[${texts.join(',')}]`,
            )
            .one().seq
    this.pending.push(
      ...entriesOf(
        { transaction, row, through: fromEvents.length > 0 ? through : undefined },
        [...withRow, ...fromEvents],
        [...texts, ...fromEvents.map(queueText)],
      ),
    )
    return true
  }

  /**
   * After a rolled-back transaction or wiped storage the in-memory copies may name rows and
   * events that do not exist; the next send reads the table and the mark instead.
   */
  forget() {
    this.staged = []
    this.stagedFromEvents = []
    this.stagedThrough = 0
    this.pending = []
    this.confirmed = undefined
    this.inherited = undefined
    this.stale = true
  }

  /**
   * What the object found when it woke: outbox rows, and the seq of its newest event. Events
   * past the mark were stored by an earlier instance that stopped before it recorded their send
   * (usually its last transaction's): the first `send` sends them again, and records it.
   */
  inherit(stored: { rows: number; lastSeq: number }) {
    if (stored.rows > 0) this.stale = true
    else if (stored.lastSeq > this.mark()) this.inherited = stored.lastSeq
  }

  /**
   * Sends what is waiting, after any send already running: what this instance committed, or,
   * when the list may miss something (or `everything` asks for it), all that is not known sent.
   * A failed send leaves everything for the next call.
   */
  send(options: { everything?: boolean } = {}): Promise<void> {
    const run = this.sending.then(async () => {
      const stored = this.stale || options.everything === true
      this.stale = false
      try {
        if (stored) await this.sendStored()
        else {
          const inherited = this.inherited
          this.inherited = undefined
          // Sent together with what this instance committed since, in the same sendBatch.
          if (inherited !== undefined) this.pending.unshift(...(await this.resent(inherited)))
          while (this.pending.length > 0) await this.sendNext(this.pending)
          // Without this write, an object that stores one event per wake-up would send its
          // whole history again each time.
          if (inherited !== undefined) this.writeMark()
        }
      } catch (error) {
        this.stale = true
        throw error
      }
    })
    this.sending = run.catch(() => undefined)
    return run
  }

  /**
   * Sends everything not known sent: the outbox rows, oldest first, then the events past the
   * mark; then writes the mark.
   */
  private async sendStored(): Promise<void> {
    this.pending = []
    this.inherited = undefined
    const rows = this.sql
      .exec<{ seq: number; body: string }>('SELECT seq, body FROM outbox ORDER BY seq')
      .toArray()
    const remade = this.resent()
    const entries = rows.flatMap((row) => {
      const messages = JSON.parse(row.body) as QueuedMessage[]
      const ids = { transaction: ++this.transactions, row: row.seq }
      return entriesOf(ids, messages, messages.map(queueText))
    })
    entries.push(...(await remade))
    while (entries.length > 0) await this.sendNext(entries)
    this.writeMark()
  }

  /**
   * The entries of the stored events past the mark (up to `upTo`), made again. The events table
   * is read before this returns, so that what is committed meanwhile stays in `pending`.
   */
  private async resent(upTo?: number): Promise<Entry[]> {
    const events = await this.resend(this.mark(), upTo)
    if (!events) return []
    const ids = { transaction: ++this.transactions, through: events.through }
    return entriesOf(ids, events.messages, events.messages.map(queueText))
  }

  /** Writes how far sending got now, outside any transaction (the alarm's sweep). */
  recordMark() {
    this.writeMark()
  }

  private writeMark() {
    const confirmed = this.mark()
    if (confirmed > this.storedMark()) this.meta.set(SHIPPED_SEQ_KEY, String(confirmed))
  }

  /** Whether anything is waiting: outbox rows, or events past the mark on disk. */
  unsent(): boolean {
    const { rows, last } = this.sql
      .exec<{ rows: number; last: number | null }>(
        'SELECT (SELECT COUNT(*) FROM outbox) AS rows, (SELECT MAX(seq) FROM events) AS last',
      )
      .one()
    return rows > 0 || (last ?? 0) > this.storedMark()
  }

  /** The newest event seq known sent, by this instance or, as written, by an earlier one. */
  mark(): number {
    this.confirmed ??= this.storedMark()
    return this.confirmed
  }

  private storedMark(): number {
    return Number(this.meta.get(SHIPPED_SEQ_KEY) ?? 0)
  }

  /**
   * Sends the first entries that fit one sendBatch, then settles the transactions all of whose
   * entries are now sent (one split across sends settles with its last part): deletes their
   * rows and moves the mark past their events.
   */
  private async sendNext(entries: Entry[]) {
    const batch = takeBatch(entries)
    const queues = this.queues()
    await Promise.all(
      QUEUES.map((queue) =>
        send(
          queues[queue],
          batch.filter((entry) => entry.queue === queue),
        ),
      ),
    )
    const unfinished = entries[0]?.transaction
    const done = batch.filter((entry) => entry.transaction !== unfinished)
    for (const entry of done) {
      if (entry.through !== undefined) this.confirmed = Math.max(this.mark(), entry.through)
    }
    const rows = [...new Set(done.flatMap((entry) => (entry.row === undefined ? [] : [entry.row])))]
    if (rows.length === 0) return
    // At most one row per queue message: within the 100 bound parameters of a batch of 100.
    this.sql.exec(`DELETE FROM outbox WHERE seq IN (${rows.map(() => '?').join(', ')})`, ...rows)
  }
}

/** A transaction's bundles: conversions to their own queue, everything else to the events queue. */
function entriesOf(
  ids: Pick<Entry, 'transaction' | 'row' | 'through'>,
  messages: QueuedMessage[],
  texts: string[],
): Entry[] {
  const byQueue: Record<keyof OutboxQueues, string[]> = { events: [], conversions: [] }
  messages.forEach((message, i) =>
    byQueue[message.kind === 'conversion' ? 'conversions' : 'events'].push(texts[i]!),
  )
  return QUEUES.flatMap((queue) =>
    bundleTexts(byQueue[queue]).map((json) => ({ ...ids, queue, json })),
  )
}

/** Removes and returns the first entries that fit one sendBatch. */
function takeBatch(entries: Entry[]): Entry[] {
  let bytes = 0
  let count = 0
  while (count < entries.length && count < MAX_BATCH_MESSAGES) {
    const next = encoder.encode(entries[count]!.json).byteLength
    if (count > 0 && bytes + next > MAX_BATCH_BYTES) break
    bytes += next
    count++
  }
  return entries.splice(0, count)
}

/** Sent as the JSON text already made for the outbox row (see contracts/queue-messages.ts bundleTexts). */
async function send(queue: Queue<string>, entries: Entry[]) {
  if (entries.length === 0) return
  await queue.sendBatch(entries.map((entry) => ({ body: entry.json, contentType: 'text' })))
}
