import { DurableObject } from 'cloudflare:workers'

/**
 * Ceiling 2: the least a per-contact store can do. Parses the JSON, routes each contact's
 * events to its SQLite-backed Durable Object with one RPC (as Cairn does), and the object does
 * one INSERT per event. No auth, validation, enrichment, dedupe, identity or queue.
 */
export interface Env {
  STORE: DurableObjectNamespace<EventStore>
}

interface Message {
  userId?: string
  anonymousId?: string
  messageId?: string
}

export class EventStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      'CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)',
    )
  }

  async store(events: string[]): Promise<number> {
    for (const body of events) {
      this.ctx.storage.sql.exec('INSERT INTO events (body) VALUES (?)', body)
    }
    return events.length
  }
}

/** Routes each contact's events to its object, one RPC per contact, as Cairn does. */
export async function handleEvents(request: Request, env: Env): Promise<Response> {
  const body = (await request.json()) as Message & { batch?: Message[] }
  const messages = Array.isArray(body.batch) ? body.batch : [body]
  const byContact = new Map<string, string[]>()
  for (const message of messages) {
    const key = message.userId ?? `anon:${message.anonymousId}`
    const list = byContact.get(key)
    if (list) list.push(JSON.stringify(message))
    else byContact.set(key, [JSON.stringify(message)])
  }
  await Promise.all(
    [...byContact].map(([key, events]) => env.STORE.get(env.STORE.idFromName(key)).store(events)),
  )
  return Response.json({ success: true, accepted: messages.length, rejected: [] })
}

export default { fetch: handleEvents } satisfies ExportedHandler<Env>
