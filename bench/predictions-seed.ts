import type { BenchDb } from './d1-client.ts'
import { progress, sleep } from './progress.ts'
import { int } from './report.ts'
import { seeded } from './workload.ts'

/**
 * Purchase events of simulated customers written straight into Cairn's D1 through the bench's
 * D1 reader, as the events consumer stores a `track` event: the purchase event's name, the value
 * in `properties`, one contact each (`usr_0000042`), no bots. Nothing else is written: the
 * summaries statement reads purchase events only, and the name index keeps other events out.
 */

const DAY_MS = 86_400_000
/** Events per statement: its JSON parameter stays near 1 MB, under D1's 2 MB a value. */
const CHUNK = 40_000

/** A simulated customer's summary in days (domain/predictions/simulate.ts). */
export interface SeedCustomer {
  x: number
  tx: number
  T: number
  /** Mean value of the repeat purchases; 0 when x = 0. */
  m: number
}

export interface Purchase {
  /** Days from the customer's first purchase. */
  at: number
  value: number
}

/**
 * The purchases behind a summary: the first at 0, the last repeat at tx and the x − 1 others
 * uniform in (0, tx), which is how a Poisson process's earlier arrivals lie given their number
 * and the last one, so the events are distributed as the BG/NBD's own. Every repeat purchase is
 * worth m, so their mean is m; the first, which no summary counts, is worth `firstValue`.
 */
export function purchasesOf(
  customer: SeedCustomer,
  firstValue: number,
  random: () => number,
): Purchase[] {
  const purchases: Purchase[] = [{ at: 0, value: firstValue }]
  if (customer.x === 0) return purchases
  const between = Array.from({ length: customer.x - 1 }, () => random() * customer.tx)
  between.sort((a, b) => a - b)
  for (const at of [...between, customer.tx]) purchases.push({ at, value: customer.m })
  return purchases
}

/** One event row as sent in a statement's JSON: customer number, its purchase's index, ms, value. */
export type EventTuple = [number, number, number, number]

/** The events of customers `from` … `to − 1`, their first purchase T days before `now`. */
export function eventTuples(
  customers: readonly SeedCustomer[],
  from: number,
  to: number,
  now: number,
  firstValue: number,
  seed: number,
): EventTuple[] {
  const tuples: EventTuple[] = []
  for (let i = from; i < to; i++) {
    const customer = customers[i]!
    // Each customer's own stream: growing the population leaves the earlier ones' events alone.
    const random = seeded(seed * 1_000_003 + i)
    const first = now - customer.T * DAY_MS
    purchasesOf(customer, customer.m > 0 ? customer.m : firstValue, random).forEach((p, j) => {
      tuples.push([i, j, Math.round(first + p.at * DAY_MS), Math.round(p.value * 100) / 100])
    })
  }
  return tuples
}

function insertEvents(): string {
  return `WITH r AS (
      SELECT value ->> 0 AS i, value ->> 1 AS j, value ->> 3 AS revenue,
        strftime('%Y-%m-%dT%H:%M:%fZ', (value ->> 2) / 1000.0, 'unixepoch') AS at
      FROM json_each(?1))
    INSERT OR IGNORE INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
      received_at, day, landing, channel, bot, properties, rolled_up)
    SELECT printf('evt_pred_%07d_%d', i, j), printf('pred-%07d-%d', i, j), printf('usr_%07d', i),
      'src_bench', 'track', ?2, at, at, substr(at, 1, 10), 0, 'direct', 0,
      json_object(?3, revenue),
      -- Counted already: the consumer's rollups must not take up millions of rows meanwhile.
      1
    FROM r`
}

export interface PurchaseSeed {
  customers: number
  events: number
  seconds: number
}

/**
 * Grows the seeded customers from `from` to `to`. The events table's secondary indexes are
 * dropped first and created again at the end from their own definitions, as segments-seed.ts
 * does: the summaries statement then reads exactly the indexes the migrations made.
 */
export async function seedPurchases(
  db: BenchDb,
  customers: readonly SeedCustomer[],
  range: { from: number; to: number },
  event: { name: string; valueProperty: string; firstValue: number },
  now: number,
  seed: number,
  phase: string,
): Promise<PurchaseSeed> {
  const started = performance.now()
  const seconds = () => ((performance.now() - started) / 1000).toFixed(0)
  const indexes = await db
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
       AND tbl_name = 'events'`,
    )
    .all<{ name: string; sql: string }>()
  for (const { name } of indexes.results) await run(db, `DROP INDEX IF EXISTS "${name}"`)
  let pending: EventTuple[] = []
  const flush = async () => {
    await run(db, insertEvents(), [JSON.stringify(pending), event.name, event.valueProperty])
    pending = []
  }
  for (let i = range.from; i < range.to; i++) {
    for (const tuple of eventTuples(customers, i, i + 1, now, event.firstValue, seed)) {
      pending.push(tuple)
    }
    if (pending.length >= CHUNK) await flush()
    if ((i + 1) % 100_000 === 0) {
      progress(phase, `seeding: customers ${int(i + 1)} of ${int(range.to)}, ${seconds()} s`)
    }
  }
  if (pending.length > 0) await flush()
  for (const { name, sql } of indexes.results) {
    progress(phase, `seeding: index ${name}, ${seconds()} s`)
    await run(db, sql.replace(/^CREATE INDEX/, 'CREATE INDEX IF NOT EXISTS'))
  }
  const row = await db.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>()
  const outcome = {
    customers: range.to,
    events: row?.n ?? 0,
    seconds: (performance.now() - started) / 1000,
  }
  progress(
    phase,
    `seeded ${int(outcome.customers)} customers, ${int(outcome.events)} purchase events in ${seconds()} s`,
  )
  return outcome
}

/**
 * As segments-seed.ts's: a request after a statement that held workerd for seconds can find its
 * kept-alive connection reset ("fetch failed"); every statement here can run twice harmlessly.
 */
async function run(db: BenchDb, statement: string, params: unknown[] = []): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await db
        .prepare(statement)
        .bind(...params)
        .run()
      return
    } catch (error) {
      if (attempt >= 3 || (error as Error).message !== 'fetch failed') throw error
      await sleep(500)
    }
  }
}
