import type { Purpose } from '../consent'
import { BUCKET_MASK, BUCKET_MULTIPLIER, BUCKETS, bucketThreshold, saltHash } from './bucket'
import type { SegmentLookup } from './facts'
import {
  PAGE_EVENT,
  SCREEN_EVENT,
  durationMs,
  type CountCondition,
  type Duration,
  type Prediction,
  type PropertyCondition,
  type Rule,
  type Scalar,
  type ValueCondition,
} from './rule'
import { compare } from './values'

/**
 * A segment rule as SQL over D1 (docs/design/segments.md): previews, counts and backfills. It
 * must name the members evaluate.ts names, to the letter, which the agreement property test
 * (edge/segments/agreement.test.ts) checks against local D1.
 *
 * SQL text comes only from the template literals in this file: every value of a rule (names,
 * paths, values, instants) reaches SQLite as a bound parameter. D1 binds at most 100 per
 * statement, numbered ?1…?100, so equal values share one number and an `in` list is one JSON
 * parameter. D1 also refuses expressions nested deeper than 100, so long all/any lists are
 * joined as balanced trees.
 */

export type SqlParam = string | number

export interface CompiledRule {
  /** A boolean expression (0 or 1, never NULL) over a row `contacts AS c`. */
  where: string
  params: SqlParam[]
}

export interface SqlStatement {
  sql: string
  params: SqlParam[]
}

export interface CompileOptions {
  /** The instant windows are measured from, ms since the epoch. */
  now: number
  lookup: SegmentLookup
}

export const MAX_BOUND_PARAMETERS = 100

/** A piece of SQL: text from this file's literals, and the values bound in it, in order. */
class Sql {
  constructor(readonly chunks: readonly (string | Bound)[]) {}
}

class Bound {
  constructor(readonly value: SqlParam) {}
}

function sql(strings: TemplateStringsArray, ...values: (Sql | SqlParam)[]): Sql {
  const chunks: (string | Bound)[] = [strings[0]!]
  values.forEach((value, i) => {
    if (value instanceof Sql) chunks.push(...value.chunks)
    else chunks.push(new Bound(value))
    chunks.push(strings[i + 1]!)
  })
  return new Sql(chunks)
}

export function compileRule(rule: Rule, options: CompileOptions): CompiledRule {
  const { sql, params } = render(ruleSql(rule, options, []))
  return { where: sql, params }
}

/** How many live contacts the rule names: one row, `n`. */
export function countQuery(rule: Rule, options: CompileOptions): SqlStatement {
  return render(sql`SELECT count(*) AS n FROM contacts AS c WHERE ${live(rule, options)}`)
}

/** Up to `limit` member keys, the most recently seen first (contacts_by_last_seen). */
export function sampleQuery(rule: Rule, options: CompileOptions, limit: number): SqlStatement {
  return render(
    sql`SELECT c.key FROM contacts AS c WHERE ${live(rule, options)}
      ORDER BY c.last_seen DESC, c.key DESC LIMIT ${limit}`,
  )
}

/** The next `limit` member keys after `afterKey` (null: from the start), in key order. */
export function membersQuery(
  rule: Rule,
  options: CompileOptions,
  afterKey: string | null,
  limit: number,
): SqlStatement {
  const after = afterKey === null ? sql`` : sql`AND c.key > ${afterKey}`
  return render(
    sql`SELECT c.key FROM contacts AS c WHERE ${live(rule, options)} ${after}
      ORDER BY c.key LIMIT ${limit}`,
  )
}

function live(rule: Rule, options: CompileOptions): Sql {
  return sql`c.merged_into IS NULL AND (${ruleSql(rule, options, [])})`
}

/** `segments` holds the inSegment ids being compiled, outermost first, to refuse a cycle. */
function ruleSql(rule: Rule, options: CompileOptions, segments: readonly string[]): Sql {
  const child = (part: Rule) => ruleSql(part, options, segments)
  if ('all' in rule) return balanced(rule.all.map(child), 'AND')
  if ('any' in rule) return balanced(rule.any.map(child), 'OR')
  if ('not' in rule) return sql`NOT (${child(rule.not)})`
  if ('trait' in rule) {
    const path = jsonPath(rule.trait)
    if (!('duration' in rule)) return compareSql(jsonOperand(sql`c.traits`, path), rule)
    const text = sql`CASE WHEN json_type(c.traits, ${path}) = 'text'
      THEN json_extract(c.traits, ${path}) END`
    const start = options.now - durationMs(rule.duration)
    const t = dateMs(text)
    return rule.op === 'within'
      ? sql`coalesce(${t} BETWEEN ${start} AND ${options.now}, 0)`
      : sql`coalesce(${t} < ${start}, 0)`
  }
  if ('performed' in rule) {
    const events = sql`events AS e WHERE ${eventsNamed(rule.performed)}
      ${since(sql`e.timestamp`, rule.within, options.now)} ${where(rule.where)}`
    return counted(sql`e.contact_key`, events, rule.count)
  }
  if ('lastPerformed' in rule) {
    // Every contact's latest in one pass over the events of that name (events_by_name): a
    // subquery per contact would walk the whole index for each. Ties on the instant go to
    // the greater id, as in evaluate.ts. `has` is read on the latest event only.
    return sql`c.key IN (SELECT e.contact_key FROM (SELECT e.contact_key, e.properties,
        row_number() OVER (PARTITION BY e.contact_key ORDER BY e.timestamp DESC, e.id DESC) AS n
      FROM events AS e WHERE ${eventsNamed(rule.lastPerformed)} ${where(rule.where)}) AS e
      WHERE e.n = 1 AND ${all(rule.has.map(propertySql))})`
  }
  if ('consent' in rule) {
    const granted = sql`c.key IN (SELECT cc.contact_key FROM contact_consent AS cc
      WHERE ${CONSENT_COLUMNS[rule.consent]} = 1)`
    return rule.granted ? granted : sql`NOT ${granted}`
  }
  if ('message' in rule) {
    const template = rule.template === undefined ? sql`` : sql`AND m.template_id = ${rule.template}`
    const messages = sql`message_events AS m WHERE m.kind = ${rule.message} ${template}
      ${since(sql`m.at`, rule.within, options.now)}`
    return counted(sql`m.contact_key`, messages, rule.count)
  }
  if ('subscribed' in rule) {
    const subscribed = sql`c.key IN (SELECT s.contact_key FROM contact_subscriptions AS s
      WHERE s.group_id = ${rule.subscribed} AND s.subscribed = 1)`
    return rule.value ? subscribed : sql`NOT ${subscribed}`
  }
  if ('list' in rule) {
    return sql`c.key IN (SELECT l.contact_key FROM list_members AS l
      WHERE l.list_id = ${rule.list})`
  }
  if ('bucket' in rule) return bucketSql(rule.bucket.percent, rule.bucket.salt ?? '')
  if ('inSegment' in rule) {
    if (segments.includes(rule.inSegment)) {
      throw new Error(`segment reference cycle: ${[...segments, rule.inSegment].join(' → ')}`)
    }
    const other = options.lookup(rule.inSegment)
    return other === undefined ? sql`0` : ruleSql(other, options, [...segments, rule.inSegment])
  }
  if ('journey' in rule) {
    return sql`c.key IN (SELECT r.contact_key FROM journey_runs AS r
      WHERE r.journey_id = ${rule.journey} AND r.state = ${rule.state})`
  }
  if ('account' in rule) {
    const operand = jsonOperand(sql`a.traits`, jsonPath(rule.account.trait))
    return sql`c.key IN (SELECT a.contact_key FROM contact_accounts AS a
      WHERE ${compareSql(operand, rule.account)})`
  }
  // A contact without a row has no prediction, which some conditions (not_exists, neq) hold on.
  const column = PREDICTION_COLUMNS[rule.prediction]
  const operand: Operand = { type: sql`typeof(${column})`, value: column }
  const holds = compareSql(operand, rule)
  return compare(undefined, rule)
    ? sql`c.key NOT IN (SELECT p.contact_key FROM contact_predictions AS p WHERE NOT ${holds})`
    : sql`c.key IN (SELECT p.contact_key FROM contact_predictions AS p WHERE ${holds})`
}

const CONSENT_COLUMNS: Record<Purpose, Sql> = {
  analytics: sql`cc.analytics`,
  marketing: sql`cc.marketing`,
  personalization: sql`cc.personalization`,
  advertising: sql`cc.advertising`,
}

const PREDICTION_COLUMNS: Record<Prediction, Sql> = {
  churnRisk: sql`p.churn_risk`,
  lapseRisk: sql`p.lapse_risk`,
  engagement: sql`p.engagement`,
  pAlive: sql`p.p_alive`,
  clv: sql`p.clv`,
}

/** Events as rules see them: never bots (withheld events sit under a key no contact has). */
function eventsNamed(name: string): Sql {
  if (name === PAGE_EVENT) return sql`e.type = 'page' AND e.bot = 0`
  if (name === SCREEN_EVENT) return sql`e.type = 'screen' AND e.bot = 0`
  return sql`e.type = 'track' AND e.event = ${name} AND e.bot = 0`
}

/** Stored instants are `toISOString()` text, whose order is time order. */
function since(column: Sql, within: Duration | undefined, now: number): Sql {
  if (within === undefined) return sql``
  return sql`AND ${column} >= ${new Date(now - durationMs(within)).toISOString()}`
}

function where(conditions: readonly PropertyCondition[] | undefined): Sql {
  return conditions === undefined || conditions.length === 0
    ? sql``
    : sql`AND ${all(conditions.map(propertySql))}`
}

function propertySql(condition: PropertyCondition): Sql {
  return compareSql(jsonOperand(sql`e.properties`, jsonPath(condition.property)), condition)
}

/**
 * Whether the contact's number of matching rows meets `count`. A count a contact with no rows
 * meets (`lte`, `eq 0`) excludes the contacts that fail it, so both forms read only the rows
 * that match, through the contact-free subquery SQLite runs once.
 */
function counted(key: Sql, rows: Sql, count: CountCondition = AT_LEAST_ONCE): Sql {
  const n = count.value
  const meets =
    count.op === 'gte'
      ? sql`count(*) >= ${n}`
      : count.op === 'eq'
        ? sql`count(*) = ${n}`
        : sql`count(*) <= ${n}`
  if (!holds(count, 0)) {
    return sql`c.key IN (SELECT ${key} FROM ${rows} GROUP BY ${key} HAVING ${meets})`
  }
  if (count.op === 'gte') return sql`1`
  return sql`c.key NOT IN (SELECT ${key} FROM ${rows} GROUP BY ${key} HAVING NOT (${meets}))`
}

const AT_LEAST_ONCE: CountCondition = { op: 'gte', value: 1 }

function holds(count: CountCondition, n: number): boolean {
  if (count.op === 'gte') return n >= count.value
  return count.op === 'lte' ? n <= count.value : n === count.value
}

/**
 * bucket.ts's bucketOf in SQLite's 64-bit integers, with xor(a, b) = (a | b) - (a & b). D1 binds
 * every number as REAL, so each one is cast back before the bit operations.
 */
function bucketSql(percent: number, salt: string): Sql {
  const xor = (a: Sql, b: Sql) => sql`((${a} | ${b}) - (${a} & ${b}))`
  const mix = (x: Sql) =>
    sql`((${xor(sql`(${x} >> 16)`, x)} * CAST(${BUCKET_MULTIPLIER} AS INTEGER))
      & CAST(${BUCKET_MASK} AS INTEGER))`
  return sql`coalesce((SELECT (${xor(sql`(x2 >> 16)`, sql`x2`)} % CAST(${BUCKETS} AS INTEGER))
      < ${bucketThreshold(percent)}
    FROM (SELECT ${mix(sql`x1`)} AS x2
    FROM (SELECT ${mix(sql`x0`)} AS x1
    FROM (SELECT ${xor(sql`c.bucket_seed`, sql`CAST(${saltHash(salt)} AS INTEGER)`)} AS x0)))), 0)`
}

/**
 * A date string's instant in ms, or NULL, exactly as values.ts parseDate reads it. SQLite's
 * date functions take far more (julian day numbers, 'now', times without a date, 24:00), so the
 * text must first match one of the doc's shapes; only then does unixepoch turn its date into
 * whole seconds, and the rest is integer arithmetic. SQLite's length and GLOB stop at a NUL
 * character, so a string with one, or with any character beyond ASCII, is refused up front.
 * D1 refuses GLOB patterns longer than 50 bytes, hence the shape checked piece by piece.
 */
function dateMs(text: Sql): Sql {
  return sql`(SELECT unixepoch(substr(b, 1, 10)) * 1000
      + CAST(substr(b, 12, 2) AS INTEGER) * 3600000
      + CAST(substr(b, 15, 2) AS INTEGER) * 60000
      + CAST(substr(b, 18, 2) AS INTEGER) * 1000
      + CAST(substr(substr(b, 21) || '00', 1, 3) AS INTEGER)
      - CASE substr(z, 1, 1) WHEN '+' THEN 1 WHEN '-' THEN -1 ELSE 0 END
        * (CAST(substr(z, 2, 2) AS INTEGER) * 60 + CAST(substr(z, 5, 2) AS INTEGER)) * 60000
    FROM (SELECT s, substr(s, 1, length(s) - zl) AS b, substr(s, length(s) - zl + 1) AS z
      FROM (SELECT s, CASE WHEN s GLOB '*Z' THEN 1
          WHEN s GLOB '*[+-][0-9][0-9]:[0-9][0-9]' THEN 6 ELSE 0 END AS zl
        FROM (SELECT ${text} AS s)))
    WHERE length(CAST(s AS BLOB)) = length(s)
      AND substr(b, 1, 10) GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'
      AND (length(b) = 10 AND z = ''
        OR length(b) IN (16, 19, 21, 22, 23)
          AND substr(b, 11, 6) GLOB '[T ][0-9][0-9]:[0-9][0-9]'
          AND (length(b) = 16 OR substr(b, 17, 3) GLOB ':[0-9][0-9]')
          AND (length(b) <= 19 OR substr(b, 20, 1) = '.' AND substr(b, 21) NOT GLOB '*[^0-9]*'))
      AND date(substr(b, 1, 10)) IS substr(b, 1, 10)
      AND CAST(substr(b, 12, 2) AS INTEGER) <= 23
      AND CAST(substr(b, 15, 2) AS INTEGER) <= 59
      AND CAST(substr(b, 18, 2) AS INTEGER) <= 59
      AND CAST(substr(z, 2, 2) AS INTEGER) <= 14
      AND CAST(substr(z, 5, 2) AS INTEGER) <= 59)`
}

/**
 * One value a condition reads: `type` in json_type's words ('null' or NULL when there is none),
 * `value` as SQL sees it (JSON true is 1), and for JSON, the source of its array's elements.
 */
interface Operand {
  type: Sql
  value: Sql
  elements?: Sql
}

/** `$."address"."city"`: each part quoted, so only a `"` (which the contract refuses) ends it. */
function jsonPath(path: string): string {
  return `$${path
    .split('.')
    .map((part) => `."${part}"`)
    .join('')}`
}

function jsonOperand(document: Sql, path: string): Operand {
  return {
    type: sql`json_type(${document}, ${path})`,
    value: sql`json_extract(${document}, ${path})`,
    elements: sql`json_each(${document}, ${path})`,
  }
}

/** values.ts compare, as 0 or 1: never NULL, so `not` around it is the opposite. */
function compareSql(operand: Operand, condition: ValueCondition): Sql {
  return sql`coalesce(${holdsSql(operand, condition)}, 0)`
}

function holdsSql(
  { type, value, elements }: Operand,
  { op, value: expected }: ValueCondition,
): Sql {
  switch (op) {
    case 'exists':
      return sql`coalesce(${type}, 'null') <> 'null'`
    case 'not_exists':
      return sql`coalesce(${type}, 'null') = 'null'`
    case 'eq':
      return equalSql(type, value, expected)
    case 'neq':
      return sql`NOT coalesce(${equalSql(type, value, expected)}, 0)`
    case 'gt':
      return orderSql(type, value, expected, sql`>`)
    case 'gte':
      return orderSql(type, value, expected, sql`>=`)
    case 'lt':
      return orderSql(type, value, expected, sql`<`)
    case 'lte':
      return orderSql(type, value, expected, sql`<=`)
    case 'contains': {
      const inArray =
        elements === undefined
          ? sql`0`
          : sql`(${type} = 'array' AND EXISTS (SELECT 1 FROM ${elements} AS j
              WHERE ${equalSql(sql`j.type`, sql`j.value`, expected)}))`
      if (typeof expected !== 'string') return inArray
      return sql`(${type} = 'text' AND instr(${value}, ${expected}) > 0) OR ${inArray}`
    }
    case 'in':
      if (!Array.isArray(expected)) return sql`0`
      // One parameter for the whole list, however long, read back with SQLite's own JSON types.
      return sql`EXISTS (SELECT 1 FROM json_each(${JSON.stringify(expected)}) AS i
        WHERE (i.type IN ('integer', 'real') AND ${type} IN ('integer', 'real')
          OR i.type IN ('text', 'true', 'false') AND i.type = ${type}) AND i.value = ${value})`
  }
}

/** Same kind and equal; arrays, objects and null never are. NULL stands for "no". */
function equalSql(type: Sql, value: Sql, expected: Scalar | Scalar[] | undefined): Sql {
  if (typeof expected === 'string') return sql`(${type} = 'text' AND ${value} = ${expected})`
  if (typeof expected === 'number') {
    return sql`(${type} IN ('integer', 'real') AND ${value} = ${expected})`
  }
  if (typeof expected === 'boolean') {
    return sql`(${type} IN ('true', 'false') AND ${value} = ${expected ? 1 : 0})`
  }
  return sql`0`
}

/** Numbers numerically, strings in BINARY order (UTF-8 bytes = code points); never booleans. */
function orderSql(type: Sql, value: Sql, expected: unknown, operator: Sql): Sql {
  if (typeof expected === 'string')
    return sql`(${type} = 'text' AND ${value} ${operator} ${expected})`
  if (typeof expected === 'number') {
    return sql`(${type} IN ('integer', 'real') AND ${value} ${operator} ${expected})`
  }
  return sql`0`
}

function all(parts: Sql[]): Sql {
  return balanced(parts, 'AND')
}

/** `a AND b AND c …` nests one level per term; halves keep D1's depth limit out of reach. */
function balanced(parts: Sql[], operator: 'AND' | 'OR'): Sql {
  if (parts.length === 1) return parts[0]!
  const half = Math.ceil(parts.length / 2)
  const left = balanced(parts.slice(0, half), operator)
  const right = balanced(parts.slice(half), operator)
  return operator === 'AND' ? sql`(${left} AND ${right})` : sql`(${left} OR ${right})`
}

/** Numbers the values ?1, ?2 … in order of first use, one number per distinct value. */
function render(statement: Sql): SqlStatement {
  const numbers = new Map<string, number>()
  const params: SqlParam[] = []
  let text = ''
  for (const chunk of statement.chunks) {
    if (typeof chunk === 'string') {
      text += chunk
      continue
    }
    const id = `${typeof chunk.value}:${chunk.value}`
    let n = numbers.get(id)
    if (n === undefined) {
      params.push(chunk.value)
      n = params.length
      numbers.set(id, n)
    }
    text += `?${n}`
  }
  if (params.length > MAX_BOUND_PARAMETERS) {
    throw new RangeError(
      `this rule needs ${params.length} distinct values; D1 binds at most ${MAX_BOUND_PARAMETERS}`,
    )
  }
  return { sql: text, params }
}
