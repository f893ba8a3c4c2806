import type { D1Migration } from 'cloudflare:test'
import type { ContactDO } from '../durable/contact-do'
import type { QueuedMessage } from './queue/messages'

/** Bindings of the Worker, as declared in wrangler.toml. */
export interface Env {
  CONTACTS: DurableObjectNamespace<ContactDO>
  DB: D1Database
  ARCHIVE: R2Bucket
  EVENTS: Queue<QueuedMessage>
  ASSETS: Fetcher
  INGEST_LIMITER?: RateLimit
  CAIRN_ADMIN_KEY: string
  /** Keys the client-IP hash; rotate to unlink old hashes. Falls back to the admin key. */
  CAIRN_IP_SALT?: string
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
