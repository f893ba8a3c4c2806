import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import {
  SPEND_LIMITS,
  SpendImportResultSchema,
  SpendImportSchema,
  SpendListSchema,
  spendRowSchema,
  type SpendIssue,
} from '../../contracts/kpis'
import { CSV_NUMBER } from '../../domain/csv'
import {
  addDays,
  readSpendCsv,
  resolvePeriod,
  totalsByChannelDay,
  type SpendRow,
} from '../../domain/insights/kpis'
import { attributionConfig } from '../attribution/config'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { listSpend, storeSpend } from '../insights/spend'
import { authErrors, json } from './common'
import { MAX_KPI_DAYS } from './kpis'

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date like 2026-11-24')

const SpendQuery = z.object({
  from: Day.optional().openapi({ description: 'first day (UTC), default 29 days before `to`' }),
  to: Day.optional().openapi({ description: 'last day (UTC), default today' }),
  channel: z.string().max(SPEND_LIMITS.channelChars).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  cursor: z.string().max(200).optional(),
})

const CSV_EXAMPLE = 'channel,day,amount,currency\npaid_search,2026-11-24,1250.00,EUR'

/**
 * Spend may be booked only on the channels attribution classifies visits into (the channel
 * rules' names): spend is compared with what those channels bring, and a misspelt
 * "paid-search" accepted silently would sit apart from every paid_search conversion with
 * nothing to show it. A channel with no rule yet (TV, podcasts) gets one first, e.g.
 * `{channel: "tv", medium: "tv"}` for its vanity URLs' `utm_medium=tv`.
 */
async function knownChannels(env: Env): Promise<Set<string>> {
  const { channelRules } = await attributionConfig(env)
  return new Set(channelRules.map((rule) => rule.channel))
}

export function spendRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  // JSON and CSV bodies are read here rather than by the route validator, which would insist
  // on JSON; the same schemas document the route.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/spend',
    tags: ['insights'],
    summary:
      'Import marketing spend per channel and day (JSON or CSV); a channel-day imported again is replaced',
    description:
      `At most ${SPEND_LIMITS.rows} rows. Every row is checked and nothing is stored if any is wrong; the 400 names each (\`rows[3].day\`, \`line 4: day\`). ` +
      'Rows of one channel and day in one import are added up (one campaign a row). CSV: a header with `channel`, `day` (or `date`) and `amount` (or `spend`, `cost`), optionally `currency`; other columns are ignored.',
    request: {
      body: {
        content: {
          'application/json': { schema: SpendImportSchema },
          'text/csv': { schema: z.string().openapi({ example: CSV_EXAMPLE }) },
        },
        required: true,
      },
    },
    responses: {
      200: json(SpendImportResultSchema, 'What was stored'),
      ...authErrors,
      413: json(ErrorSchema, `More than ${SPEND_LIMITS.rows} rows (too_many_rows)`),
    },
  })
  app.post('/spend', async (c) => {
    const today = new Date().toISOString().slice(0, 10)
    const channels = await knownChannels(c.env)
    const schema = spendRowSchema(channels, addDays(today, 1))
    const text = await c.req.text()
    const parsed = c.req.header('Content-Type')?.includes('csv')
      ? csvRows(text, schema)
      : jsonRows(text, schema)
    if (!parsed.ok) throw spendError(parsed.issues, channels)
    const merged = totalsByChannelDay(parsed.rows)
    if (!merged.ok) {
      throw spendError(
        merged.conflicts.map(({ index, first }) => ({
          ...parsed.places[index]!,
          message: `the same channel and day as ${parsed.places[first]!.path} with another currency`,
        })),
        channels,
      )
    }
    const replaced = await storeSpend(c.env.DB, merged.rows)
    const days = merged.rows.map((row) => row.day).sort()
    c.set('auditDetail', { rows: parsed.rows.length, stored: merged.rows.length, replaced })
    return c.json(
      {
        received: parsed.rows.length,
        stored: merged.rows.length,
        replaced,
        from: days[0]!,
        to: days[days.length - 1]!,
        channels: [...new Set(merged.rows.map((row) => row.channel))].sort(),
      },
      200,
    )
  })

  app.openapi(
    createRoute({
      method: 'get',
      path: '/spend',
      tags: ['insights'],
      summary: 'Imported spend in a period, newest day first, with totals per channel',
      request: { query: SpendQuery },
      responses: { 200: json(SpendListSchema, 'Spend per channel and day'), ...authErrors },
    }),
    async (c) => {
      const query = c.req.valid('query')
      const resolved = resolvePeriod(query, new Date().toISOString().slice(0, 10), MAX_KPI_DAYS)
      if (!resolved.ok) throw new ApiError(400, 'invalid_range', resolved.message)
      const page = await listSpend(c.env.DB, { ...query, period: resolved.period })
      return c.json({ ...resolved.period, ...page }, 200)
    },
  )

  return app
}

type RowSchema = ReturnType<typeof spendRowSchema>
type Place = Omit<SpendIssue, 'message'>
type Parsed = { ok: true; rows: SpendRow[]; places: Place[] } | { ok: false; issues: SpendIssue[] }

function jsonRows(text: string, schema: RowSchema): Parsed {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ApiError(
      400,
      'invalid_json',
      'The body is not valid JSON; send {"rows": [...]} or text/csv',
    )
  }
  const envelope = z
    .object({ rows: z.array(z.unknown()).min(1, 'at least one row') })
    .safeParse(body)
  if (!envelope.success) {
    const issue = envelope.error.issues[0]!
    const message = issue.path.length === 0 ? 'expected {"rows": [...]}' : issue.message
    return { ok: false, issues: [{ path: 'rows', field: 'rows', message }] }
  }
  tooMany(envelope.data.rows.length)
  const rows: SpendRow[] = []
  const places: Place[] = []
  const issues: SpendIssue[] = []
  envelope.data.rows.forEach((raw, index) => {
    const place = { path: `rows[${index}]`, index, field: '' }
    places.push(place)
    const row = schema.safeParse(raw)
    if (row.success) rows.push(row.data)
    for (const issue of row.error?.issues ?? []) {
      const field = issue.path.map(String).join('.')
      issues.push({
        path: field ? `rows[${index}].${field}` : `rows[${index}]`,
        index,
        field,
        message: issue.message,
      })
    }
  })
  return issues.length > 0 ? { ok: false, issues } : { ok: true, rows, places }
}

function csvRows(text: string, schema: RowSchema): Parsed {
  const read = readSpendCsv(text, SPEND_LIMITS.rows)
  if (!read.ok) {
    if (read.tooMany) tooMany(SPEND_LIMITS.rows + 1)
    return {
      ok: false,
      issues: read.issues.map((issue) => ({
        path: issue.field ? `line ${issue.line}: ${issue.field}` : `line ${issue.line}`,
        line: issue.line,
        field: issue.field,
        message: issue.message,
      })),
    }
  }
  const rows: SpendRow[] = []
  const places: Place[] = []
  const issues: SpendIssue[] = read.issues.map((issue) => ({
    path: `line ${issue.line}`,
    line: issue.line,
    field: '',
    message: issue.message,
  }))
  for (const cells of read.rows) {
    places.push({ path: `line ${cells.line}`, line: cells.line, field: '' })
    const amount =
      cells.amount === ''
        ? undefined
        : CSV_NUMBER.test(cells.amount)
          ? Number(cells.amount)
          : cells.amount
    const row = schema.safeParse({ ...cells, amount })
    if (row.success) rows.push(row.data)
    for (const issue of row.error?.issues ?? []) {
      const field = issue.path.map(String).join('.')
      issues.push({
        path: `line ${cells.line}: ${field}`,
        line: cells.line,
        field,
        message: issue.message,
      })
    }
  }
  issues.sort((a, b) => a.line! - b.line!)
  return issues.length > 0 ? { ok: false, issues } : { ok: true, rows, places }
}

function tooMany(rows: number) {
  if (rows > SPEND_LIMITS.rows) {
    throw new ApiError(
      413,
      'too_many_rows',
      `At most ${SPEND_LIMITS.rows} rows per import; split the file`,
      {
        limit: SPEND_LIMITS.rows,
      },
    )
  }
}

/**
 * Every problem named (up to a bound), the first few in the message itself, and the known
 * channels once when a channel is unknown.
 */
function spendError(issues: readonly SpendIssue[], channels: ReadonlySet<string>): ApiError {
  const shown = issues.slice(0, 3).map(describe).join('; ')
  const more = issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''
  const unknown = issues.some((issue) => issue.message.startsWith('unknown channel'))
  const known = [...channels].sort()
  const hint = unknown ? `. Known channels: ${known.join(', ')}` : ''
  return new ApiError(400, 'invalid_spend', `Nothing was stored: ${shown}${more}${hint}`, {
    issues: issues.slice(0, SPEND_LIMITS.issues),
    issueCount: issues.length,
    ...(unknown ? { knownChannels: known } : {}),
  })
}

/** `rows[3].day: must be …` (JSON) or `line 4: day must be …` (CSV). */
function describe(issue: SpendIssue): string {
  return issue.line !== undefined && issue.field
    ? `${issue.path} ${issue.message}`
    : `${issue.path}: ${issue.message}`
}
