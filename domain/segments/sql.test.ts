import { describe, expect, it } from 'vitest'
import { bucketThreshold, saltHash } from './bucket'
import type { SegmentLookup } from './facts'
import type { PropertyCondition, Rule, Scalar } from './rule'
import {
  MAX_BOUND_PARAMETERS,
  compileRule,
  countQuery,
  membersQuery,
  sampleQuery,
  type CompileOptions,
} from './sql'

/**
 * The compiler's shape: values bound, never written into the SQL. Whether the SQL means what
 * evaluate.ts means is the agreement property test's job (edge/segments/agreement.test.ts),
 * against D1 itself.
 */

const NOW = Date.parse('2026-12-06T08:00:00.000Z')
const none: SegmentLookup = () => undefined
const at = (lookup: SegmentLookup = none): CompileOptions => ({ now: NOW, lookup })

const HOSTILE = [
  "'; DROP TABLE contacts; --",
  `Robert"); DELETE FROM events; --`,
  "O'Brien",
  '-- comment',
  '$."x"',
  "' OR 1=1 --",
]

/** Every rule kind, with a hostile text in each place a rule holds text. */
function everyKind(text: string, value: Scalar): Rule[] {
  const where: PropertyCondition[] = [
    { property: `${text}.inner`, op: 'eq', value },
    { property: text, op: 'in', value: [value, text] },
  ]
  return [
    { trait: text, op: 'eq', value },
    { trait: `address.${text}`, op: 'contains', value },
    { trait: text, op: 'in', value: [text, value, 1, true] },
    { trait: text, op: 'gt', value },
    { trait: text, op: 'exists' },
    { trait: text, op: 'within', duration: { days: 7 } },
    { trait: text, op: 'before', duration: { hours: 1 } },
    { performed: text, where, within: { days: 1 } },
    { performed: text, where, count: { op: 'lte', value: 2 } },
    { lastPerformed: text, where, has: where },
    { consent: 'marketing', granted: false },
    { message: 'opened', template: text, count: { op: 'eq', value: 0 }, within: { days: 3 } },
    { subscribed: text, value: false },
    { list: text },
    { bucket: { percent: 12.34, salt: text } },
    { inSegment: text },
    { journey: text, state: 'active' },
    { account: { trait: text, op: 'neq', value } },
    { prediction: 'churnRisk', op: 'in', value: [value] },
  ]
}

/** The single-quoted literals of a SQL text: all of them must be the compiler's own. */
function literals(sql: string): string[] {
  return [...sql.matchAll(/'[^']*'/g)].map((m) => m[0])
}

const OWN_LITERALS = new Set([
  "'text'",
  "'integer'",
  "'real'",
  "'true'",
  "'false'",
  "'null'",
  "'array'",
  "'page'",
  "'screen'",
  "'track'",
  "''",
  "'00'",
  "'+'",
  "'-'",
  "'.'",
  "'*Z'",
  "'*[+-][0-9][0-9]:[0-9][0-9]'",
  "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'",
  "'[T ][0-9][0-9]:[0-9][0-9]'",
  "':[0-9][0-9]'",
  "'*[^0-9]*'",
])

describe('compileRule', () => {
  it('binds every text of a rule and writes none into the SQL', () => {
    for (const text of HOSTILE) {
      for (const value of [text, 42, true]) {
        for (const rule of everyKind(text, value)) {
          const lookup: SegmentLookup = (id) => (id === text ? { list: text } : undefined)
          const { where, params } = compileRule(rule, at(lookup))
          expect(where).not.toContain(text)
          expect(
            literals(where).filter((l) => !OWN_LITERALS.has(l)),
            where,
          ).toEqual([])
          // Each parameter is used, and no placeholder points past them.
          const used = new Set([...where.matchAll(/\?(\d+)/g)].map((m) => Number(m[1])))
          expect([...used].sort((a, b) => a - b)).toEqual(params.map((_, i) => i + 1))
        }
      }
    }
  })

  it('binds each distinct value once, however often the SQL reads it', () => {
    const { where, params } = compileRule(
      {
        all: [
          { trait: 'plan', op: 'eq', value: 'pro' },
          { trait: 'plan', op: 'neq', value: 'pro' },
          { trait: 'plan', op: 'gt', value: 1 },
          { trait: 'plan', op: 'lt', value: '1' },
        ],
      },
      at(),
    )
    expect(params).toEqual(['$."plan"', 'pro', 1, '1'])
    expect(where.match(/\?1\b/g)!.length).toBeGreaterThan(4)
  })

  it('quotes each part of a dotted path as a JSON label', () => {
    const { params } = compileRule({ trait: 'address.city name', op: 'exists' }, at())
    expect(params).toEqual(['$."address"."city name"'])
  })

  it('binds booleans as 1 and 0, an `in` list as one JSON parameter', () => {
    expect(compileRule({ trait: 'vip', op: 'eq', value: false }, at()).params).toEqual([
      '$."vip"',
      0,
    ])
    const list = compileRule({ trait: 'plan', op: 'in', value: ['a', 2, true] }, at())
    expect(list.params.toSorted()).toEqual(['$."plan"', '["a",2,true]'].toSorted())
  })

  it('counts page and screen views by type, track events by name too', () => {
    const page = compileRule({ performed: '$page' }, at())
    expect(page.where).toContain("e.type = 'page'")
    expect(page.params).toEqual([1])
    const track = compileRule({ performed: 'Signed Up' }, at())
    expect(track.where).toContain("e.type = 'track' AND e.event = ?1")
    expect(track.params).toEqual(['Signed Up', 1])
  })

  it('measures windows back from now, as stored timestamps are written', () => {
    const { params } = compileRule({ performed: 'Signed Up', within: { days: 7 } }, at())
    expect(params).toContain('2026-11-29T08:00:00.000Z')
  })

  it('reads only matching events for every count: IN when none is too few, NOT IN else', () => {
    const sql = (count: { op: 'gte' | 'eq' | 'lte'; value: number }) =>
      compileRule({ performed: 'x', count }, at()).where.replace(/\s+/g, ' ')
    expect(sql({ op: 'gte', value: 2 })).toMatch(/^c\.key IN \(.* HAVING count\(\*\) >= \?2\)$/)
    expect(sql({ op: 'eq', value: 1 })).toMatch(/^c\.key IN \(.* HAVING count\(\*\) = \?2\)$/)
    expect(sql({ op: 'eq', value: 0 })).toMatch(/^c\.key NOT IN \(.* HAVING NOT \(count/)
    expect(sql({ op: 'lte', value: 3 })).toMatch(/^c\.key NOT IN \(.* HAVING NOT \(count/)
    expect(sql({ op: 'gte', value: 0 })).toBe('1')
  })

  it('computes buckets from the bound hash of the salt and the threshold', () => {
    const { params } = compileRule({ bucket: { percent: 12.34, salt: 'exp' } }, at())
    expect(params).toContain(saltHash('exp'))
    expect(params).toContain(bucketThreshold(12.34))
    expect(compileRule({ bucket: { percent: 50 } }, at()).params).toContain(saltHash(''))
  })

  it('compiles a referenced segment in place; an unknown one matches no one', () => {
    const lookup: SegmentLookup = (id) => (id === 'pro' ? { list: 'vip' } : undefined)
    expect(compileRule({ inSegment: 'pro' }, at(lookup))).toEqual(
      compileRule({ list: 'vip' }, at()),
    )
    expect(compileRule({ inSegment: 'gone' }, at()).where).toBe('0')
  })

  it('refuses a reference cycle instead of recursing forever', () => {
    const lookup: SegmentLookup = (id) => ({ inSegment: id === 'a' ? 'b' : 'a' })
    expect(() => compileRule({ inSegment: 'a' }, at(lookup))).toThrow(/a → b → a/)
  })

  it('nests long all/any lists as balanced trees, within D1 expression depth', () => {
    const conditions: Rule[] = Array.from({ length: 100 }, (_, i) => ({ list: `l${i}` }))
    const { where } = compileRule({ any: conditions }, at())
    let depth = 0
    let deepest = 0
    for (const char of where) {
      if (char === '(') deepest = Math.max(deepest, ++depth)
      if (char === ')') depth--
    }
    expect(deepest).toBeLessThan(20)
  })

  it('says so when a rule needs more values than D1 binds', () => {
    const conditions: Rule[] = Array.from({ length: MAX_BOUND_PARAMETERS + 1 }, (_, i) => ({
      list: `l${i}`,
    }))
    expect(() => compileRule({ all: conditions }, at())).toThrow(RangeError)
  })
})

describe('segment queries', () => {
  const rule: Rule = { trait: 'plan', op: 'eq', value: "'pro'" }

  it('counts live contacts only', () => {
    const { sql, params } = countQuery(rule, at())
    expect(sql).toMatch(/^SELECT count\(\*\) AS n FROM contacts AS c WHERE c\.merged_into IS NULL/)
    expect(params).toEqual(['$."plan"', "'pro'"])
  })

  it('samples the most recently seen members', () => {
    const { sql, params } = sampleQuery(rule, at(), 20)
    expect(sql).toMatch(/ORDER BY c\.last_seen DESC, c\.key DESC LIMIT \?3$/)
    expect(params).toEqual(['$."plan"', "'pro'", 20])
  })

  it('pages members by key, after the last key of the previous page', () => {
    const first = membersQuery(rule, at(), null, 500)
    expect(first.sql).toMatch(/ORDER BY c\.key LIMIT \?3$/)
    expect(first.params).toEqual(['$."plan"', "'pro'", 500])
    const next = membersQuery(rule, at(), "key'9", 500)
    expect(next.sql).toMatch(/AND c\.key > \?3\s+ORDER BY c\.key LIMIT \?4$/)
    expect(next.params).toEqual(['$."plan"', "'pro'", "key'9", 500])
  })
})
