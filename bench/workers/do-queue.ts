import { EventStore, handleEvents, type Env } from './do-write.ts'

/**
 * Ceiling 3: the DO-write ceiling plus the one thing every stored event costs on Cairn's data
 * path beyond its write: the object's Queue send after the write (one sendBatch per RPC, its
 * events as one text message, off the answer's path as Cairn's outbox does), and a consumer
 * that only acknowledges. No D1, no R2. The gap between this and DO-write is what the local
 * Queue itself costs (miniflare's queue broker runs on workerd's one thread with everything else).
 */
interface QueueEnv extends Env {
  SHIP: Queue<string>
}

export class ShippingEventStore extends EventStore {
  override async store(events: string[]): Promise<number> {
    const stored = await super.store(events)
    const env = this.env as QueueEnv
    this.ctx.waitUntil(env.SHIP.sendBatch([{ body: `[${events.join(',')}]`, contentType: 'text' }]))
    return stored
  }
}

export default {
  fetch: handleEvents,
  async queue(batch: MessageBatch<string>): Promise<void> {
    batch.ackAll()
  },
} satisfies ExportedHandler<QueueEnv, string>
