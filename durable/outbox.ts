import { bundleTexts, queueText, type QueuedMessage } from '../edge/queue/messages'

const encoder = new TextEncoder()

/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

/** Conversions go to their own queue, delivered at once; everything else in bulk. */
export interface OutboxQueues {
  events: Queue<string>
  conversions: Queue<string>
}

const QUEUES = ['events', 'conversions'] as const

/** One queue message (a bundle, see queue/messages.ts), its queue, and the row it came from. */
interface Entry {
  seq: number
  queue: keyof OutboxQueues
  json: string
}

/**
 * A Durable Object's outbox (table outbox): messages are written in the same transaction as the
 * state they describe, sent to the queues after the commit, and deleted only once a queue
 * accepted them, so a crash in between re-sends them: delivery is at-least-once and the
 * consumer is idempotent. A transaction's messages share one row (written at `commit`), so an
 * ingest costs one insert however many messages it produced, and travel as one bundle per
 * queue (more when they exceed a queue message's size). Bundles written by this instance are
 * also kept in memory and sent from there; the table is read only to send what an earlier
 * instance or a failed send left.
 */
export class Outbox {
  private staged: QueuedMessage[] = []
  private pending: Entry[] = []

  constructor(
    private readonly sql: SqlStorage,
    private readonly queues: () => OutboxQueues,
  ) {}

  add(message: QueuedMessage) {
    this.staged.push(message)
  }

  /** Writes the messages added since the last commit as one row; call inside the transaction. */
  commit() {
    if (this.staged.length === 0) return
    const messages = this.staged
    this.staged = []
    const texts = messages.map(queueText)
    const { seq } = this.sql
      .exec<{ seq: number }>(
        'INSERT INTO outbox (body) VALUES (?) RETURNING seq',
        `[${texts.join(',')}]`,
      )
      .one()
    this.pending.push(...entriesOf(seq, messages, texts))
  }

  /** After a rolled-back transaction the in-memory copies may name rows that never existed. */
  forget() {
    this.staged = []
    this.pending = []
  }

  /** Sends what this instance wrote; on failure the rows stay for `sendStored`. */
  async sendPending(): Promise<void> {
    while (this.pending.length > 0) await this.sendNext(this.pending)
  }

  /** Sends every row in the table, oldest first. */
  async sendStored(): Promise<void> {
    this.pending = []
    const entries = this.sql
      .exec<{ seq: number; body: string }>('SELECT seq, body FROM outbox ORDER BY seq')
      .toArray()
      .flatMap((row) => {
        const messages = JSON.parse(row.body) as QueuedMessage[]
        return entriesOf(row.seq, messages, messages.map(queueText))
      })
    while (entries.length > 0) await this.sendNext(entries)
  }

  size(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n
  }

  /**
   * Sends the first entries that fit one sendBatch, then deletes the rows all of whose messages
   * are now sent (a row split across sends is deleted with its last part).
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
    const unfinished = entries[0]?.seq
    const done = [...new Set(batch.map((entry) => entry.seq))].filter((seq) => seq !== unfinished)
    if (done.length === 0) return
    // At most one row per queue message: within the 100 bound parameters of a batch of 100.
    this.sql.exec(`DELETE FROM outbox WHERE seq IN (${done.map(() => '?').join(', ')})`, ...done)
  }
}

/** A row's bundles: conversions to their own queue, everything else to the events queue. */
function entriesOf(seq: number, messages: QueuedMessage[], texts: string[]): Entry[] {
  const byQueue: Record<keyof OutboxQueues, string[]> = { events: [], conversions: [] }
  messages.forEach((message, i) =>
    byQueue[message.kind === 'conversion' ? 'conversions' : 'events'].push(texts[i]!),
  )
  return QUEUES.flatMap((queue) =>
    bundleTexts(byQueue[queue]).map((json) => ({ seq, queue, json })),
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

/** Sent as the JSON text already made for the outbox row (see queue/messages.ts bundleTexts). */
async function send(queue: Queue<string>, entries: Entry[]) {
  if (entries.length === 0) return
  await queue.sendBatch(entries.map((entry) => ({ body: entry.json, contentType: 'text' })))
}
