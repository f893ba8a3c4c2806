import { expectStatus, quietBefore } from './api.ts'
import type { BenchConfig } from './config.ts'
import type { BenchDb } from './d1-client.ts'
import { progress } from './progress.ts'
import { int, ms } from './report.ts'
import { withCairn, type CairnTarget } from './runtime.ts'
import { LISTED_SEGMENT, seedContacts, type SeedOutcome } from './segments-seed.ts'
import { PREVIEW_RULES, TYPICAL_RULE } from './segments-rules.ts'
import type { SegmentsSql } from './segments-sql.ts'
import { timing, type Timing } from './segments-targets.ts'

/**
 * Previews and member listings over a synthetic D1 population, grown from one size to the
 * next on the same database. At each size every measured operation runs once unmeasured, then
 * `repetitions` times in turn (so drift on this shared machine reaches each alike), beside the
 * baseline `SELECT count(*) FROM contacts`. The preview's statements are domain/segments/sql.ts's,
 * sent through the bench's D1 reader; the typical rule's preview and the member pages are also
 * timed through Cairn's own routes, from request to answer.
 */

const PHASE = 'segments'
/** Rows a member page asks for, as the console does. */
const PAGE = 50
/** Contact keys a preview samples (edge/routes/segments.ts PREVIEW_SAMPLE). */
const SAMPLE = 10
/** Where the deep member page starts: this share of the members lies before it. */
const DEEP_SHARE = 0.9

export interface PreviewPlan {
  populations: number[]
  repetitions: number
}

export interface RuleOutcome {
  key: string
  label: string
  /** Live contacts the rule matches. */
  matches: number
  count: Timing
  sample: Timing
  /** The count and the sample of one repetition, one after the other. */
  preview: Timing
  /** EXPLAIN QUERY PLAN of each statement, as indented lines. */
  plans: { count: string[]; sample: string[] }
}

export interface PopulationOutcome {
  contacts: number
  seeded: SeedOutcome
  baseline: Timing
  rules: RuleOutcome[]
  /** `POST /api/segments/preview` of the typical rule. */
  previewRoute: Timing
  /** `GET /api/segments/:id/members`: the first page, and one after DEEP_SHARE of the members. */
  firstPage: Timing
  deepPage: Timing
}

export function measurePreviews(
  config: BenchConfig,
  plan: PreviewPlan,
  compiler: SegmentsSql,
): Promise<PopulationOutcome[]> {
  return withCairn(PHASE, config, async (target) => {
    const outcomes: PopulationOutcome[] = []
    const now = Date.now()
    let seededUpTo = 0
    for (const contacts of plan.populations) {
      progress(PHASE, `previews at ${int(contacts)} contacts: seeding D1`)
      const seeded = await seedContacts(target.db, seededUpTo, contacts, now, PHASE)
      seededUpTo = contacts
      await quietBefore(config, PHASE)
      outcomes.push(await measurePopulation(target, seeded, contacts, plan, compiler))
    }
    return outcomes
  })
}

interface Operation {
  name: string
  run(): Promise<unknown>
}

async function measurePopulation(
  target: CairnTarget,
  seeded: SeedOutcome,
  contacts: number,
  plan: PreviewPlan,
  compiler: SegmentsSql,
): Promise<PopulationOutcome> {
  const { db } = target
  // The route compiles with its own clock; a few minutes' difference moves no 7-day window much.
  const options = { now: Date.now(), lookup: () => undefined }
  const statements = PREVIEW_RULES.map((r) => ({
    ...r,
    count: compiler.countQuery(r.rule, options),
    sample: compiler.sampleQuery(r.rule, options, SAMPLE),
  }))
  const members = `/api/segments/${LISTED_SEGMENT.id}/members?limit=${PAGE}`
  const deepKey = await keyAt(db, Math.floor(seeded.members * DEEP_SHARE))
  const deepCursor = Buffer.from(JSON.stringify([deepKey])).toString('base64url')
  const matches = new Map<string, number>()
  const operations: Operation[] = [
    { name: 'baseline', run: () => db.prepare('SELECT count(*) AS n FROM contacts').first() },
    ...statements.flatMap((s) => [
      {
        name: `${s.key}:count`,
        run: async () => {
          const [row] = await rows<{ n: number }>(db, s.count)
          matches.set(s.key, row?.n ?? 0)
        },
      },
      { name: `${s.key}:sample`, run: () => rows(db, s.sample) },
    ]),
    {
      name: 'route:preview',
      run: () =>
        expectStatus(200, target, 'POST', '/api/segments/preview', {
          body: { rule: TYPICAL_RULE.rule },
        }),
    },
    { name: 'route:first', run: () => memberPage(target, members) },
    { name: 'route:deep', run: () => memberPage(target, `${members}&cursor=${deepCursor}`) },
  ]

  progress(PHASE, `each operation once, unmeasured (${operations.length} operations)`)
  for (const operation of operations) await operation.run()

  const samples = new Map<string, number[]>(operations.map((o) => [o.name, []]))
  for (let r = 1; r <= plan.repetitions; r++) {
    for (const operation of operations) {
      const started = performance.now()
      await operation.run()
      samples.get(operation.name)!.push(performance.now() - started)
    }
    const last = (name: string) => ms(samples.get(name)!.at(-1)!)
    progress(
      PHASE,
      `${int(contacts)} contacts, repetition ${r}/${plan.repetitions}: baseline ${last('baseline')} ms, ` +
        `typical rule count ${last('typical:count')} + sample ${last('typical:sample')} ms, ` +
        `preview route ${last('route:preview')} ms, member pages ${last('route:first')} / ${last('route:deep')} ms`,
    )
  }
  const of = (name: string) => timing(samples.get(name)!)
  const outcome: PopulationOutcome = {
    contacts,
    seeded,
    baseline: of('baseline'),
    rules: [],
    previewRoute: of('route:preview'),
    firstPage: of('route:first'),
    deepPage: of('route:deep'),
  }
  for (const s of statements) {
    const counts = samples.get(`${s.key}:count`)!
    const previews = samples.get(`${s.key}:sample`)!.map((sample, i) => sample + counts[i]!)
    outcome.rules.push({
      key: s.key,
      label: s.label,
      matches: matches.get(s.key)!,
      count: timing(counts),
      sample: of(`${s.key}:sample`),
      preview: timing(previews),
      plans: { count: await queryPlan(db, s.count), sample: await queryPlan(db, s.sample) },
    })
  }
  return outcome
}

interface Statement {
  sql: string
  params: unknown[]
}

async function rows<T>(db: BenchDb, statement: Statement): Promise<T[]> {
  return (
    await db
      .prepare(statement.sql)
      .bind(...statement.params)
      .all<T>()
  ).results
}

/** The member key `offset` rows into the listing's order (newest key first). */
async function keyAt(db: BenchDb, offset: number): Promise<string> {
  const row = await db
    .prepare(
      `SELECT contact_key AS key FROM segment_members WHERE segment_id = ?
       ORDER BY contact_key DESC LIMIT 1 OFFSET ?`,
    )
    .bind(LISTED_SEGMENT.id, offset)
    .first<{ key: string }>()
  if (!row) throw new Error(`no member ${offset} rows into ${LISTED_SEGMENT.id}`)
  return row.key
}

async function memberPage(target: CairnTarget, path: string) {
  const answer = await expectStatus<{ items: unknown[] }>(200, target, 'GET', path)
  if (answer.body.items.length !== PAGE) {
    throw new Error(`GET ${path} answered ${answer.body.items.length} members, not ${PAGE}`)
  }
}

/** SQLite's plan as a tree: each step indented under the step it belongs to. */
async function queryPlan(db: BenchDb, statement: Statement): Promise<string[]> {
  const steps = await rows<{ id: number; parent: number; detail: string }>(db, {
    sql: `EXPLAIN QUERY PLAN ${statement.sql}`,
    params: statement.params,
  })
  const depth = new Map<number, number>([[0, -1]])
  return steps.map((step) => {
    const level = (depth.get(step.parent) ?? -1) + 1
    depth.set(step.id, level)
    return `${'  '.repeat(level)}${step.detail}`
  })
}
