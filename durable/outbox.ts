import type { QueuedMessage } from '../edge/queue/messages'

/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

/** Conversions go to their own queue, delivered at once; everything else in bulk. */
export interface OutboxQueues {
  events: Queue<QueuedMessage>
  conversions: Queue<QueuedMessage>
}

interface Entry {
  seq: number
  message: QueuedMessage
  bytes: number
}

/**
 * A Durable Object's outbox (table outbox): messages are written in the same transaction as the
 * state they describe, sent to the queues after the commit, and deleted only once a queue
 * accepted them, so a crash in between re-sends them: delivery is at-least-once and the
 * consumer is idempotent. Messages written by this instance are also kept in memory and sent
 * from there; the table is read only to send what an earlier instance or a failed send left.
 */
export class Outbox {
  private pending: Entry[] = []

  constructor(
    private readonly sql: SqlStorage,
    private readonly queues: () => OutboxQueues,
  ) {}

  add(message: QueuedMessage) {
    const body = JSON.stringify(message)
    const { seq } = this.sql
      .exec<{ seq: number }>('INSERT INTO outbox (body) VALUES (?) RETURNING seq', body)
      .one()
    this.pending.push({ seq, message, bytes: body.length })
  }

  /** After a rolled-back transaction the in-memory copies may name rows that never existed. */
  forget() {
    this.pending = []
  }

  /** Sends what this instance wrote; on failure the rows stay for `sendStored`. */
  async sendPending(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = takeBatch(this.pending)
      await this.send(batch)
    }
  }

  /** Sends every row in the table, oldest first. */
  async sendStored(): Promise<void> {
    this.pending = []
    for (;;) {
      const rows = this.sql
        .exec<{ seq: number; body: string }>(
          'SELECT seq, body FROM outbox ORDER BY seq LIMIT ?',
          MAX_BATCH_MESSAGES,
        )
        .toArray()
      if (rows.length === 0) return
      const entries = rows.map((row) => ({
        seq: row.seq,
        message: JSON.parse(row.body) as QueuedMessage,
        bytes: row.body.length,
      }))
      await this.send(takeBatch(entries))
    }
  }

  size(): number {
    return this.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n
  }

  private async send(batch: Entry[]) {
    const queues = this.queues()
    const conversions = batch.filter((entry) => entry.message.kind === 'conversion')
    const events = batch.filter((entry) => entry.message.kind !== 'conversion')
    await Promise.all([send(queues.conversions, conversions), send(queues.events, events)])
    this.sql.exec(
      'DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))',
      JSON.stringify(batch.map((entry) => entry.seq)),
    )
  }
}

/** Removes and returns the first entries that fit one sendBatch. */
function takeBatch(entries: Entry[]): Entry[] {
  let bytes = 0
  let count = 0
  while (count < entries.length && count < MAX_BATCH_MESSAGES) {
    const next = entries[count]!.bytes
    if (count > 0 && bytes + next > MAX_BATCH_BYTES) break
    bytes += next
    count++
  }
  return entries.splice(0, count)
}

async function send(queue: Queue<QueuedMessage>, entries: Entry[]) {
  if (entries.length === 0) return
  await queue.sendBatch(entries.map((entry) => ({ body: entry.message, contentType: 'json' })))
}
