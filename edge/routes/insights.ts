import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { sql } from 'drizzle-orm'
import { streamSSE } from 'hono/streaming'
import { queryAll } from '../db/raw'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { releasing } from '../../durable/rpc'
import { authErrors, json } from './common'

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-24')

const OverviewQuery = z.object({
  from: Day.optional().openapi({ description: 'first day (UTC), default 29 days before `to`' }),
  to: Day.optional().openapi({ description: 'last day (UTC), default today' }),
  top: z.coerce.number().int().min(1).max(100).default(10),
})

const Ranked = z.array(z.object({ name: z.string(), count: z.number().int() }))

const OverviewSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    totals: z.object({
      events: z.number().int(),
      pageviews: z.number().int(),
      visitors: z.number().int(),
      conversions: z.number().int(),
      revenue: z.number().openapi({ description: 'value of the conversions' }),
    }),
    days: z.array(
      z.object({
        day: z.string(),
        events: z.number().int(),
        pageviews: z.number().int(),
        visitors: z.number().int(),
      }),
    ),
    topPages: Ranked,
    referrers: Ranked,
    channels: Ranked,
    topEvents: Ranked,
    countries: Ranked,
    devices: Ranked,
    browsers: Ranked,
    deadLetters: z
      .number()
      .int()
      .openapi({ description: 'queue messages parked after failed retries' }),
    messages: z
      .object({
        total: z.number().int().openapi({ description: 'messages made in the period' }),
        sent: z.number().int().openapi({ description: 'handed to a provider' }),
        failed: z.number().int().openapi({ description: 'failed on every provider' }),
        errorRate: z
          .number()
          .nullable()
          .openapi({ description: 'failed ÷ (sent + failed); null before any settled' }),
      })
      .openapi({ description: 'Email in the period, by when each message was made' }),
  })
  .openapi('Overview')

const DAY_MS = 86_400_000
const MAX_DAYS = 731

const RANKED_METRICS = {
  topPages: 'page',
  referrers: 'referrer',
  channels: 'channel',
  topEvents: 'event',
  countries: 'country',
  devices: 'device',
  browsers: 'browser',
} as const

/** Statuses of a message a provider accepted, whatever its feedback said since. */
const SENT_STATUSES = "('sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained')"

function nextDay(day: string): string {
  return new Date(Date.parse(day) + DAY_MS).toISOString().slice(0, 10)
}

/**
 * The error rate counts only messages that reached an end at a provider: one stopped for want of
 * consent or by a cap was never tried, and one still queued has not ended.
 */
function messageTotals(
  row: { total: number; sent: number | null; failed: number | null } | undefined,
) {
  const sent = row?.sent ?? 0
  const failed = row?.failed ?? 0
  return {
    total: row?.total ?? 0,
    sent,
    failed,
    errorRate: sent + failed > 0 ? failed / (sent + failed) : null,
  }
}

export function insightRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/insights/overview',
      tags: ['insights'],
      summary: 'Events, pageviews and unique contacts per day; top pages, referrers, channels',
      request: { query: OverviewQuery },
      responses: { 200: json(OverviewSchema, 'Bot traffic excluded'), ...authErrors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const to = query.to ?? new Date().toISOString().slice(0, 10)
      const from = query.from ?? new Date(Date.parse(to) - 29 * DAY_MS).toISOString().slice(0, 10)
      if (from > to) throw new ApiError(400, 'invalid_range', '`from` must not be after `to`')
      if ((Date.parse(to) - Date.parse(from)) / DAY_MS >= MAX_DAYS) {
        throw new ApiError(400, 'invalid_range', `A period spans at most ${MAX_DAYS} days`)
      }
      const [daily, visitors, totalVisitors, dead, converted, mailed, ...ranked] = await queryAll<
        [
          { day: string; metric: string; count: number },
          { day: string; visitors: number },
          { visitors: number },
          { n: number },
          { conversions: number; revenue: number | null },
          { total: number; sent: number | null; failed: number | null },
          ...{ name: string; count: number }[],
        ]
      >(c.env.DB, [
        sql`
          SELECT day, metric, count FROM daily_rollups
          WHERE day BETWEEN ${from} AND ${to} AND metric IN ('events', 'pageviews')`,
        sql`
          SELECT day, COUNT(*) AS visitors FROM contact_days
          WHERE day BETWEEN ${from} AND ${to} GROUP BY day`,
        sql`
          SELECT COUNT(DISTINCT contact_key) AS visitors FROM contact_days
          WHERE day BETWEEN ${from} AND ${to}`,
        sql`SELECT COUNT(*) AS n FROM dead_letters`,
        sql`SELECT COUNT(*) AS conversions, SUM(value) AS revenue FROM conversions
          WHERE day BETWEEN ${from} AND ${to}`,
        sql`SELECT COUNT(*) AS total, SUM(status IN ${sql.raw(SENT_STATUSES)}) AS sent,
            SUM(status = 'failed') AS failed FROM messages
          WHERE created_at >= ${from} AND created_at < ${nextDay(to)}`,
        ...Object.values(RANKED_METRICS).map(
          (metric) => sql`
            SELECT dimension AS name, SUM(count) AS count FROM daily_rollups
            WHERE metric = ${metric} AND day BETWEEN ${from} AND ${to}
            GROUP BY dimension ORDER BY count DESC, dimension LIMIT ${query.top}`,
        ),
      ])
      const days = new Map<
        string,
        { day: string; events: number; pageviews: number; visitors: number }
      >()
      for (let t = Date.parse(from); t <= Date.parse(to); t += DAY_MS) {
        const day = new Date(t).toISOString().slice(0, 10)
        days.set(day, { day, events: 0, pageviews: 0, visitors: 0 })
      }
      for (const row of daily) {
        const entry = days.get(row.day)
        if (entry) entry[row.metric as 'events' | 'pageviews'] = row.count
      }
      for (const row of visitors) {
        const entry = days.get(row.day)
        if (entry) entry.visitors = row.visitors
      }
      const series = [...days.values()]
      const sum = (field: 'events' | 'pageviews') => series.reduce((n, d) => n + d[field], 0)
      const rankedByName = Object.fromEntries(
        Object.keys(RANKED_METRICS).map((name, i) => [name, ranked[i] ?? []]),
      ) as Record<keyof typeof RANKED_METRICS, { name: string; count: number }[]>
      return c.json(
        {
          from,
          to,
          totals: {
            events: sum('events'),
            pageviews: sum('pageviews'),
            visitors: totalVisitors[0]?.visitors ?? 0,
            conversions: converted[0]?.conversions ?? 0,
            revenue: converted[0]?.revenue ?? 0,
          },
          days: series,
          ...rankedByName,
          deadLetters: dead[0]?.n ?? 0,
          messages: messageTotals(mailed[0]),
        },
        200,
      )
    },
  )
  app.openapi(
    createRoute({
      method: 'get',
      path: '/insights/live',
      tags: ['insights'],
      summary: 'The live event stream as server-sent events (event `event`, JSON data)',
      request: {
        query: z.object({
          since: z
            .string()
            .max(40)
            .optional()
            .openapi({ description: 'receivedAt to resume after' }),
        }),
        headers: z.object({ 'last-event-id': z.string().max(100).optional() }),
      },
      responses: {
        200: {
          description: 'text/event-stream of events as they reach D1',
          content: { 'text/event-stream': { schema: z.string() } },
        },
        ...authErrors,
        429: json(
          ErrorSchema,
          'Too many open live streams, for this key or in all; Retry-After says when a slot is sure to be free',
        ),
      },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const resume = c.req.valid('header')['last-event-id'] ?? query.since
      c.set('auditDetail', { resume: resume !== undefined })
      const slots = releasing(c.env.LIVE_STREAMS.get(c.env.LIVE_STREAMS.idFromName('live-streams')))
      const grant = await slots.acquire(c.get('principal').keyId, LIVE_SLOT_LIMITS)
      if (!grant.ok) {
        throw new ApiError(
          429,
          'too_many_streams',
          grant.scope === 'key'
            ? `This key already has ${grant.limit} live streams open; close one first`
            : `${grant.limit} live streams are open, the most Cairn serves at once; try again later`,
          { scope: grant.scope, limit: grant.limit },
          { 'Retry-After': String(grant.retryAfterSeconds) },
        )
      }
      let released: Promise<void> | undefined
      const release = () => (released ??= slots.release(grant.lease).catch(() => undefined))
      return streamSSE(c, async (stream) => {
        // A client that goes away frees its slot now, not at the next poll.
        stream.onAbort(() => {
          const done = release()
          try {
            c.executionCtx.waitUntil(done)
          } catch {
            // No execution context (app.request in tests): the promise runs on its own.
          }
        })
        try {
          let cursor = resume ?? new Date(Date.now() - LIVE_BACKFILL_MS).toISOString()
          let lastId = ''
          const deadline = Date.now() + LIVE_STREAM_MS
          while (!stream.aborted && Date.now() < deadline) {
            const rows = await c.env.DB.prepare(
              `SELECT id, contact_key, type, event, path, channel, country, device, timestamp, received_at
               FROM events WHERE received_at >= ? AND bot = 0 ORDER BY received_at, id LIMIT 200`,
            )
              .bind(cursor)
              .all<{ id: string; received_at: string } & Record<string, unknown>>()
            for (const row of rows.results) {
              if (row.received_at === cursor && row.id <= lastId) continue
              await stream.writeSSE({
                event: 'event',
                id: row.received_at,
                data: JSON.stringify(liveEvent(row)),
              })
              cursor = row.received_at
              lastId = row.id
            }
            if (rows.results.length === 0) await stream.writeSSE({ event: 'ping', data: '{}' })
            await stream.sleep(LIVE_POLL_MS)
          }
        } finally {
          await release()
        }
      })
    },
  )
  return app
}

/** How often the stream looks for new events, and how long one connection lasts. */
const LIVE_POLL_MS = 1_000
const LIVE_STREAM_MS = 5 * 60_000
const LIVE_BACKFILL_MS = 60_000

/** Open live streams one key may hold, and all keys together. */
export const LIVE_STREAMS_PER_KEY = 3
export const LIVE_STREAMS_TOTAL = 50

/**
 * Streams are counted by leases in one Durable Object (durable/live-stream-slots.ts), so the
 * bound holds across isolates and locations. A stream ends after LIVE_STREAM_MS (EventSource
 * reconnects, taking a slot again); its lease lasts a minute longer, so a slot whose release was
 * lost with its isolate comes back on its own.
 */
const LIVE_SLOT_LIMITS = {
  perHolder: LIVE_STREAMS_PER_KEY,
  total: LIVE_STREAMS_TOTAL,
  leaseMs: LIVE_STREAM_MS + 60_000,
}

function liveEvent(row: Record<string, unknown>) {
  return {
    id: row.id,
    contactKey: row.contact_key,
    type: row.type,
    event: row.event,
    path: row.path,
    channel: row.channel,
    country: row.country,
    device: row.device,
    timestamp: row.timestamp,
    receivedAt: row.received_at,
  }
}
