import type { D1Migration } from 'cloudflare:test'
import type { AuditSequencer } from '../durable/audit-sequencer'
import type { ContactDO } from '../durable/contact-do'
import type { IdentityDirectory } from '../durable/identity-directory'
import type { LiveStreamSlots } from '../durable/live-stream-slots'
import type { ProviderHealth } from '../durable/provider-health'

/** Bindings of the Worker, as declared in wrangler.toml. */
export interface Env {
  CONTACTS: DurableObjectNamespace<ContactDO>
  AUDIT: DurableObjectNamespace<AuditSequencer>
  DIRECTORY: DurableObjectNamespace<IdentityDirectory>
  LIVE_STREAMS: DurableObjectNamespace<LiveStreamSlots>
  PROVIDER_HEALTH: DurableObjectNamespace<ProviderHealth>
  DB: D1Database
  ARCHIVE: R2Bucket
  /** Messages travel as JSON text (see contracts/queue-messages.ts queueText). */
  EVENTS: Queue<string>
  CONVERSIONS: Queue<string>
  /** Email sends (contracts/messaging.ts SendJob), as JSON text. */
  MESSAGES: Queue<string>
  ASSETS: Fetcher
  /** Workers AI, unbound unless a deployment adds it (edge/predictions/ai.ts says how). */
  AI?: Ai
  INGEST_LIMITER?: RateLimit
  LOGIN_LIMITER?: RateLimit
  CAIRN_ADMIN_KEY: string
  /** Keys the client-IP hash; rotate to unlink old hashes. Falls back to the admin key. */
  CAIRN_IP_SALT?: string
  /**
   * Keys the hashes that name people on the suppression list and in the audit log. Never rotate
   * it: a suppression is matched by it. Falls back to the admin key.
   */
  CAIRN_HASH_KEY?: string
  /** Encrypts provider credentials at rest (edge/messaging/secret-box.ts). Falls back to the hash key. */
  CAIRN_SECRETS_KEY?: string
  /** The public origin of this deployment, for unsubscribe links; default http://localhost:8787. */
  CAIRN_PUBLIC_URL?: string
  /**
   * "true": journey webhooks and the help desk may be private addresses (local development,
   * tests); ignored when CAIRN_ENV is "production" (edge/journeys/actions/ssrf.ts).
   */
  CAIRN_WEBHOOK_ALLOW_PRIVATE?: string
  CAIRN_ENV?: string
}

type CairnEnv = Env

declare global {
  namespace Cloudflare {
    interface Env extends CairnEnv {
      TEST_MIGRATIONS: D1Migration[]
    }
  }
}
