import { generateDataKey, importDataKey, sealText } from '../../durable/data-key'
import { multiRowQueries } from '../../edge/db/multi-row'
import type { Env } from '../../edge/env'
import { consumeEvents, EVENT_COLUMNS, eventRow } from '../../edge/queue/consumer'
import type {
  ContactSnapshot,
  EventMessage,
  QueuedMessage,
  TouchMessage,
} from '../../contracts/queue-messages'

/**
 * Bench-only, started beside Cairn on the same D1 database and R2 bucket (`/__bench/consumer`,
 * see sections/consumer.ts): hands Cairn's queue consumer (`consumeEvents`, the code the events
 * queue runs) batches shaped like a ContactDO's, one bundle per stored event, and times each.
 * Mode `rows` is the baseline: the same events' D1 rows alone, one transaction per batch, the
 * least that puts the stream in D1. Every event of a run carries the run's source id, so the
 * bench can count what landed.
 */
export interface DriverPlan {
  /** `none` only makes the batches: the driver's own share of the CPU. */
  mode: 'consumer' | 'rows' | 'none'
  /** Queue messages (bundles) per batch. */
  batchSize: number
  batches: number
  /** Distinct contacts the events belong to. */
  contacts: number
  sourceId: string
}

export interface DriverResult {
  /** Wall time of each batch, ms, as workerd's clock advances across the batch's I/O. */
  ms: number[]
  events: number
}

const SITE = 'https://shop.example'
const PAGES = ['/', '/pricing', '/docs/start', '/blog/launch', '/checkout', '/features']
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const plan = (await request.json()) as DriverPlan
    const result: DriverResult = { ms: [], events: 0 }
    const key = await importDataKey(generateDataKey())
    for (let b = 0; b < plan.batches; b++) {
      const bundles = await Promise.all(
        Array.from({ length: plan.batchSize }, (_, i) => bundle(plan, b, i, key)),
      )
      // workerd's clock stands still while code runs and moves on at I/O, timers included:
      // without this, the batch's time would include making it.
      await new Promise((resolve) => setTimeout(resolve, 0))
      const start = Date.now()
      if (plan.mode === 'consumer') await consumeEvents(queueBatch(bundles), env)
      else if (plan.mode === 'rows') await insertRowsOnly(env.DB, bundles)
      result.ms.push(Date.now() - start)
      result.events += bundles.length
    }
    return Response.json(result)
  },
}

/**
 * What one single-event ContactDO transaction sends: the event, the contact's snapshot and, on a
 * session's first page, its touch.
 */
async function bundle(
  plan: DriverPlan,
  batch: number,
  index: number,
  key: CryptoKey,
): Promise<QueuedMessage[]> {
  const n = batch * plan.batchSize + index
  const contactKey = `anonymousId:bench-${(n * 7919) % plan.contacts}`
  const now = new Date().toISOString()
  const path = PAGES[n % PAGES.length]!
  const page = {
    path,
    referrer: 'https://www.google.com/',
    search: '',
    title: path,
    url: `${SITE}${path}`,
  }
  const id = crypto.randomUUID()
  const event: EventMessage['event'] = {
    id,
    messageId: `bench-${id}`,
    type: 'page',
    name: path,
    anonymousId: contactKey.slice('anonymousId:'.length),
    properties: page,
    context: {
      library: { name: 'analytics.js', version: 'npm:next-1.76.0' },
      locale: 'en-US',
      timezone: 'Europe/Berlin',
      userAgent: USER_AGENT,
      page,
    },
    integrations: {},
    timestamp: now,
    sentAt: now,
    receivedAt: now,
    sourceId: plan.sourceId,
    enrichment: {
      browser: 'Chrome',
      os: 'Windows',
      device: 'desktop',
      bot: false,
      country: 'DE',
      url: page.url,
      path,
      referrer: page.referrer,
      referrerDomain: 'google.com',
      landing: n % 5 === 0,
      channel: 'organic_search',
    },
  }
  const messages: QueuedMessage[] = [
    {
      kind: 'event',
      contactKey,
      event,
      archive: {
        id,
        type: 'page',
        receivedAt: now,
        timestamp: now,
        sourceId: plan.sourceId,
        keyId: 'bench',
        // Sealed as a ContactDO seals it (contact-do.ts eventMessage).
        ...(await sealText(key, JSON.stringify(event))),
      },
    },
    {
      kind: 'contact',
      key: contactKey,
      version: n,
      anonymousIds: [event.anonymousId!],
      traits: {},
      firstSeen: now,
      lastSeen: now,
      eventCount: batch + 1,
    } satisfies ContactSnapshot,
  ]
  if (event.enrichment.landing) {
    messages.push({
      kind: 'touch',
      id,
      contactKey,
      at: now,
      channel: 'organic_search',
    } satisfies TouchMessage)
  }
  return messages
}

/** A MessageBatch as the events queue delivers it: each bundle as JSON text. */
function queueBatch(bundles: QueuedMessage[][]): MessageBatch<unknown> {
  const messages = bundles.map((body, i) => ({
    id: `bench-${i}`,
    timestamp: new Date(),
    attempts: 1,
    body: JSON.stringify(body),
    ack() {},
    retry() {},
  }))
  return {
    queue: 'cairn-events',
    messages,
    ackAll() {},
    retryAll() {},
  } as unknown as MessageBatch<unknown>
}

/**
 * The baseline: each event's D1 row as the consumer makes it, bound as values a few per
 * statement (the cheapest way to write them), already marked rolled up so the consumer's rollups
 * never count them.
 */
async function insertRowsOnly(db: D1Database, bundles: QueuedMessage[][]) {
  const rows = bundles.flat().flatMap((message) => {
    if (message.kind !== 'event') return []
    const row = eventRow(message)
    return [[row.contactKey, ...EVENT_COLUMNS.map(([, field]) => row[field]), 1]]
  })
  const columns = ['contact_key', ...EVENT_COLUMNS.map(([column]) => column), 'rolled_up']
  const head = `INSERT OR IGNORE INTO events (${columns.join(', ')}) VALUES `
  const queries = multiRowQueries(head, rows)
  await db.batch(queries.map((query) => db.prepare(query.sql).bind(...query.params)))
}
