/** Queues accept at most 100 messages and 256 KB per sendBatch. */
const MAX_BATCH_MESSAGES = 100
const MAX_BATCH_BYTES = 240 * 1024

const encoder = new TextEncoder()

/** Sends JSON texts in as few batches as the queue's limits allow. */
export async function sendTexts(queue: Queue<string>, texts: readonly string[]): Promise<void> {
  let batch: MessageSendRequest<string>[] = []
  let bytes = 0
  for (const body of texts) {
    const size = encoder.encode(body).byteLength
    if (
      batch.length === MAX_BATCH_MESSAGES ||
      (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)
    ) {
      await queue.sendBatch(batch)
      batch = []
      bytes = 0
    }
    batch.push({ body, contentType: 'text' })
    bytes += size
  }
  if (batch.length > 0) await queue.sendBatch(batch)
}
