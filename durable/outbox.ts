import type { QueuedMessage } from '../edge/queue/messages'

/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

/** Conversions go to their own queue, delivered at once; everything else in bulk. */
export interface OutboxQueues {
  events: Queue<QueuedMessage>
  conversions: Queue<QueuedMessage>
}

/**
 * Sends a Durable Object's outbox rows to the queues in order and deletes what was sent. A row
 * is deleted only after its queue accepted it, so a crash in between re-sends it: delivery is
 * at-least-once and the consumer is idempotent.
 */
export async function sendOutbox(sql: SqlStorage, queues: OutboxQueues): Promise<void> {
  for (;;) {
    const rows = sql
      .exec<{ seq: number; body: string }>(
        'SELECT seq, body FROM outbox ORDER BY seq LIMIT ?',
        MAX_BATCH_MESSAGES,
      )
      .toArray()
    if (rows.length === 0) return
    let bytes = 0
    const batch: { seq: number; message: QueuedMessage }[] = []
    for (const row of rows) {
      if (batch.length > 0 && bytes + row.body.length > MAX_BATCH_BYTES) break
      batch.push({ seq: row.seq, message: JSON.parse(row.body) as QueuedMessage })
      bytes += row.body.length
    }
    const conversions = batch.filter((row) => row.message.kind === 'conversion')
    const events = batch.filter((row) => row.message.kind !== 'conversion')
    await Promise.all([
      send(
        queues.conversions,
        conversions.map((row) => row.message),
      ),
      send(
        queues.events,
        events.map((row) => row.message),
      ),
    ])
    sql.exec('DELETE FROM outbox WHERE seq <= ?', batch[batch.length - 1]!.seq)
  }
}

async function send(queue: Queue<QueuedMessage>, messages: QueuedMessage[]) {
  if (messages.length === 0) return
  await queue.sendBatch(messages.map((body) => ({ body, contentType: 'json' })))
}
