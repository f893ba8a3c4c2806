import type { QueuedMessage } from '../edge/queue/messages'

/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

/**
 * Sends a Durable Object's outbox rows to the queue in order and deletes what was sent. A row
 * is deleted only after the queue accepted it, so a crash in between re-sends it: delivery is
 * at-least-once and the consumer is idempotent.
 */
export async function sendOutbox(sql: SqlStorage, queue: Queue<QueuedMessage>): Promise<void> {
  for (;;) {
    const rows = sql
      .exec<{ seq: number; body: string }>(
        'SELECT seq, body FROM outbox ORDER BY seq LIMIT ?',
        MAX_BATCH_MESSAGES,
      )
      .toArray()
    if (rows.length === 0) return
    let bytes = 0
    const batch: { seq: number; body: string }[] = []
    for (const row of rows) {
      if (batch.length > 0 && bytes + row.body.length > MAX_BATCH_BYTES) break
      batch.push(row)
      bytes += row.body.length
    }
    await queue.sendBatch(
      batch.map((row) => ({ body: JSON.parse(row.body) as QueuedMessage, contentType: 'json' })),
    )
    sql.exec('DELETE FROM outbox WHERE seq <= ?', batch[batch.length - 1]!.seq)
  }
}
