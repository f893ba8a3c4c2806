import { createApp } from './app'
import type { Env } from './env'
import { consumeDeadLetters, consumeEvents } from './queue/consumer'
import { runScheduledMaintenance } from './maintenance'
import { consumeSends } from './messaging/send-consumer'

/** The queue of email sends (wrangler.toml); every other queue carries the events' messages. */
const SEND_QUEUE = 'cairn-messages'

export { AuditSequencer } from '../durable/audit-sequencer'
export { ContactDO } from '../durable/contact-do'
export { IdentityDirectory } from '../durable/identity-directory'
export { LiveStreamSlots } from '../durable/live-stream-slots'
export { ProviderHealth } from '../durable/provider-health'

const app = createApp()

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    if (batch.queue.endsWith('-dlq')) await consumeDeadLetters(batch, env)
    else if (batch.queue === SEND_QUEUE) await consumeSends(batch, env)
    else await consumeEvents(batch, env)
  },
  async scheduled(controller, env) {
    await runScheduledMaintenance(env, new Date(controller.scheduledTime))
  },
} satisfies ExportedHandler<Env>
