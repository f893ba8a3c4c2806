import type { BenchDb } from './d1-client.ts'
import { progress, sleep } from './progress.ts'
import { int } from './report.ts'
import type { Rule } from '../domain/segments/rule.ts'

/**
 * Synthetic contacts, events and segment members written straight into Cairn's D1, through the
 * bench's D1 reader like every other D1 access of the bench. Rows are generated inside SQLite by
 * recursive CTEs (one statement per 100,000 contacts), so a million contacts cost seconds, not a
 * million requests. Every value is a function of the contact's number, so each run seeds the
 * same data.
 *
 * What a contact looks like: 60% identified (`usr_…` key; email, plan, createdAt traits; plan
 * 15% pro, 25% plus, 60% free), 40% anonymous (`anon:…`, no traits), 1% of those merged into an
 * identified one, 2% bots; 1–9 events each (5 on average), the newest at a uniformly drawn
 * instant of the last 30 days and the older ones spaced back from it, never before 30 days ago;
 * 45% page views, the rest track events of eight names, 'Viewed Pricing' 10% of all events.
 */

/** The segment whose members the listing route pages through: paying customers (~24%). */
export const LISTED_SEGMENT = {
  id: 'seg_bench_paying',
  name: 'Paying customers',
  rule: { trait: 'plan', op: 'in', value: ['plus', 'pro'] } satisfies Rule,
}

const DAY_MS = 86_400_000
const WINDOW_MS = 30 * DAY_MS
const CHUNK = 100_000
/** Event j of a contact exists while j < its count: at most this many. */
const MAX_EVENTS = 9

/** 0…65535 from an integer expression: the high half of a 32-bit multiplicative hash. */
const hash = (x: string) => `((((${x}) * 2654435761) % 4294967296) / 65536)`

/**
 * Contacts `from` … `to - 1`, one row each, with what the statements below derive from them.
 * `newest` is how long before `now` the newest event is; `gap` the spacing of the older ones.
 */
function contactsCte(from: number, to: number): string {
  return `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to - 1}),
    c0 AS (SELECT i, i % 5 < 3 AS identified, ${hash('i + 1')} % 100 AS plan_roll,
        (${hash('i + 2')} * ${WINDOW_MS}) / 65536 + i % 1000 AS newest,
        1 + ${hash('i + 3')} % ${MAX_EVENTS} AS events
      FROM n),
    c AS (SELECT *,
        CASE WHEN identified THEN printf('usr_%07d', i)
          ELSE printf('anon:%04x%04x-%06x', ${hash('i + 4')}, ${hash('i + 5')}, i) END AS key,
        CASE WHEN NOT identified THEN NULL WHEN plan_roll < 15 THEN 'pro'
          WHEN plan_roll < 40 THEN 'plus' ELSE 'free' END AS plan,
        (${WINDOW_MS} - newest) / ${MAX_EVENTS} * ${hash('i + 6')} / 65536 AS gap
      FROM c0)`
}

/** An instant `msBefore` ms before `now`, as the consumer stores instants (toISOString). */
const isoBefore = (now: number, msBefore: string) =>
  `strftime('%Y-%m-%dT%H:%M:%fZ', (${now} - (${msBefore})) / 1000.0, 'unixepoch')`

function insertContacts(from: number, to: number, now: number): string {
  const email = `printf('user%d@example.com', i)`
  const createdAt = isoBefore(now, `${hash('i + 7')} * 3600000`)
  return `${contactsCte(from, to)}
    INSERT OR IGNORE INTO contacts (key, user_id, email, anonymous_ids, traits, first_seen,
      last_seen, event_count, version, merged_into, bucket_seed)
    SELECT key, CASE WHEN identified THEN key END, CASE WHEN identified THEN ${email} END,
      json_array(printf('%04x%04x-%07d', ${hash('i + 8')}, ${hash('i + 9')}, i)),
      CASE WHEN identified THEN json_object('email', ${email}, 'plan', plan,
        'createdAt', ${createdAt}) ELSE '{}' END,
      ${isoBefore(now, 'newest + (events - 1) * gap')}, ${isoBefore(now, 'newest')}, events, 1,
      CASE WHEN i % 100 = 4 THEN printf('usr_%07d', i - 4) END,
      (i * 2654435761) % 4294967296
    FROM c`
}

const PAGE_PATH = `CASE r % 5 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/docs'
  WHEN 3 THEN '/blog/segments' ELSE '/changelog' END`
/** The consumer stores a page view's name in `event` (edge/queue/consumer.ts). */
const PAGE_NAME = `CASE r % 5 WHEN 0 THEN 'Home' WHEN 1 THEN 'Pricing' WHEN 2 THEN 'Docs'
  WHEN 3 THEN 'Segments, explained' ELSE 'Changelog' END`

/** Page views and track events; `r` is 0…99. */
const EVENT_NAME = `CASE WHEN r < 45 THEN ${PAGE_NAME} WHEN r < 55 THEN 'Viewed Pricing'
  WHEN r < 70 THEN 'Product Viewed' WHEN r < 76 THEN 'Signed Up' WHEN r < 86 THEN 'Feature Used'
  WHEN r < 91 THEN 'Order Completed' WHEN r < 95 THEN 'Invited Teammate'
  WHEN r < 98 THEN 'Upgraded Plan' ELSE 'Exported Report' END`

function insertEvents(from: number, to: number, now: number): string {
  const steps = Array.from({ length: MAX_EVENTS }, (_, j) => `(${j})`).join(', ')
  const at = isoBefore(now, 'newest + j * gap')
  return `${contactsCte(from, to)},
    k(j) AS (VALUES ${steps}),
    e AS (SELECT c.*, j, ${hash('i * 16 + j + 11')} % 100 AS r, ${at} AS at
      FROM c JOIN k ON j < events)
    INSERT OR IGNORE INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
      received_at, day, path, landing, channel, bot, properties, rolled_up)
    SELECT printf('evt_bench_%07d_%d', i, j), printf('bench-%07d-%d', i, j), key, 'src_bench',
      CASE WHEN r < 45 THEN 'page' ELSE 'track' END, ${EVENT_NAME}, at, at, substr(at, 1, 10),
      CASE WHEN r < 45 THEN ${PAGE_PATH} END, j = events - 1, 'direct', i % 50 = 7,
      CASE WHEN r < 45 THEN json_object('path', ${PAGE_PATH})
        WHEN r < 91 AND r >= 86 THEN json_object('revenue', 20 + r * 3) ELSE '{}' END,
      -- Counted already: the consumer's rollups must not take up millions of rows meanwhile.
      1
    FROM e`
}

function insertMembers(from: number, to: number, now: number): string {
  return `${contactsCte(from, to)}
    INSERT OR IGNORE INTO segment_members (segment_id, contact_key, since)
    SELECT '${LISTED_SEGMENT.id}', key, ${isoBefore(now, 'newest')} FROM c
    WHERE plan IN ('plus', 'pro')`
}

export interface SeedOutcome {
  contacts: number
  events: number
  members: number
  seconds: number
}

/**
 * Grows the synthetic population from `from` to `to` contacts. Secondary indexes are dropped
 * first and created again at the end from their own definitions (sqlite_master): building an
 * index from sorted rows is several times faster than keeping it up to date row by row, and
 * the statements afterwards read exactly the indexes the migrations made.
 */
export async function seedContacts(
  db: BenchDb,
  from: number,
  to: number,
  now: number,
  phase: string,
): Promise<SeedOutcome> {
  const started = performance.now()
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0)
  if (from === 0) await insertListedSegment(db, now)
  const indexes = await db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
       AND tbl_name IN ('contacts', 'events', 'segment_members')`,
    )
    .all<{ name: string; sql: string }>()
  for (const { name } of indexes.results) await run(db, `DROP INDEX IF EXISTS "${name}"`)
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK)
    await run(db, insertContacts(start, end, now))
    await run(db, insertEvents(start, end, now))
    await run(db, insertMembers(start, end, now))
    progress(phase, `seeding: contacts ${int(end)} of ${int(to)}, ${seconds()} s`)
  }
  for (const { name, sql } of indexes.results) {
    progress(phase, `seeding: index ${name}, ${seconds()} s`)
    await run(db, sql.replace(/^CREATE INDEX/, 'CREATE INDEX IF NOT EXISTS'))
  }
  const count = async (query: string) => (await db.prepare(query).first<{ n: number }>())?.n ?? 0
  const outcome = {
    contacts: await count('SELECT count(*) AS n FROM contacts'),
    events: await count('SELECT count(*) AS n FROM events'),
    members: await count(
      `SELECT count(*) AS n FROM segment_members WHERE segment_id = '${LISTED_SEGMENT.id}'`,
    ),
    seconds: (performance.now() - started) / 1000,
  }
  progress(
    phase,
    `seeded ${int(outcome.contacts)} contacts, ${int(outcome.events)} events, ` +
      `${int(outcome.members)} members of "${LISTED_SEGMENT.name}" in ${seconds()} s`,
  )
  return outcome
}

/**
 * Straight into D1 rather than through `POST /api/segments`: creating it there would start a
 * backfill that wakes the object of every synthetic contact, none of which exists.
 */
async function insertListedSegment(db: BenchDb, now: number) {
  const at = new Date(now).toISOString()
  await db
    .prepare(
      `INSERT INTO segments (id, name, rule, created_at, updated_at, changed_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    )
    .bind(LISTED_SEGMENT.id, LISTED_SEGMENT.name, JSON.stringify(LISTED_SEGMENT.rule), at, at, at)
    .run()
}

/**
 * The request after a statement that held workerd for many seconds can find its kept-alive
 * connection reset ("fetch failed", ECONNRESET) before it is sent. Every statement here can
 * run twice harmlessly (INSERT OR IGNORE, IF [NOT] EXISTS), so such a failure is retried.
 */
async function run(db: BenchDb, statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db.prepare(statement).run()
      return
    } catch (error) {
      if (attempt >= 3 || (error as Error).message !== 'fetch failed') throw error
      await sleep(500)
    }
  }
}
