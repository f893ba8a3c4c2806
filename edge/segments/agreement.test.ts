import { env } from 'cloudflare:test'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RuleSchema } from '../../contracts/segment'
import { PURPOSES, type Purpose } from '../../domain/consent'
import { bucketSeed } from '../../domain/segments/bucket'
import { evaluate } from '../../domain/segments/evaluate'
import type { ContactFacts, SegmentLookup } from '../../domain/segments/facts'
import {
  JOURNEY_STATES,
  MESSAGE_EVENTS,
  PAGE_EVENT,
  SCREEN_EVENT,
  MINUTE_MS,
  PREDICTIONS,
  VALUE_OPS,
  durationMs,
  type Duration,
  type JourneyState,
  type MessageEvent,
  type Prediction,
  type PropertyCondition,
  type Rule,
  type Scalar,
  type ValueCondition,
} from '../../domain/segments/rule'
import {
  countQuery,
  membersQuery,
  sampleQuery,
  type CompileOptions,
  type SqlStatement,
} from '../../domain/segments/sql'

/**
 * The property docs/design/segments.md promises: for random rules and random contacts written
 * to the real local D1, evaluate.ts (over facts built from the same data) and sql.ts (over D1)
 * name the same members. It lives in edge/, not beside them, because domain/ tests may import
 * nothing but vitest (test/import-graph.node.test.ts).
 * The vocabulary is small on purpose, so rules and contacts meet: the same trait keys, event
 * names and values on both sides, dates around the window edges of the rules' durations.
 */

const NOW = Date.parse('2026-12-06T08:00:00.000Z')
const DAY_MS = 24 * 60 * MINUTE_MS

// ---- values both sides use ----

const STRINGS = [
  'pro',
  'free',
  'Pro',
  'pr',
  '',
  'é',
  'e\u0301',
  '😀',
  '\uff5e', // above the surrogates in UTF-16, below 😀 by code point
  'a\u0000b',
  '10',
  "'; DROP TABLE contacts; --",
  `O'Brien "the" \\ one`,
  '2026-12-01',
]
const NUMBERS = [0, 1, -1, 1.5, 2, 10, 30, 0.1, 0.30000000000000004, 1e20, -1e-7, 2 ** 53 + 2]

/** Most values come from a core both sides share, so conditions hold often enough to test. */
const aString = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('pro', 'free', 'Pro') },
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 4 }) },
)
const aNumber = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(1, 10, 30) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBERS) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer({ min: -50, max: 50 }) },
)
const aScalar: fc.Arbitrary<Scalar> = fc.oneof(aString, aNumber, fc.boolean())

// ---- dates: valid ones in every shape the doc allows, near the edges of the windows ----

const DURATIONS: Duration[] = [
  { days: 1 },
  { days: 7 },
  { days: 30 },
  { hours: 1 },
  { minutes: 90 },
  { days: 1, hours: 2, minutes: 3 },
]
const aDuration = fc.constantFrom(...DURATIONS)

/** Each world's `now`: on a second, and off it, so that fractions of a second meet an edge. */
const NOWS = [NOW, NOW + 500, NOW + 999]

/** An instant near NOW, often exactly at (or a ms or a second off) the edge of some window. */
const anInstant = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0, ...DURATIONS.map(durationMs)),
        fc.constantFrom(-1000, -1, 0, 1, 500, 999, 1000, 1500),
      )
      .map(([back, nudge]) => NOW - back + nudge),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: -40 * DAY_MS, max: 2 * DAY_MS }).map((offset) => NOW + offset),
  },
)

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/**
 * `t` written in one of the doc's shapes (coarser ones name an earlier instant), in some zone:
 * mostly a real one, now and then one out of range (+15:00, +01:60).
 */
const aDate = fc
  .record({
    t: anInstant,
    shape: fc.constantFrom('date', 'minutes', 'seconds', 'f1', 'f2', 'f3'),
    separator: fc.constantFrom('T', ' '),
    zone: fc.oneof(
      fc.constantFrom('none', 'Z'),
      fc.record({
        sign: fc.constantFrom(1, -1),
        hours: fc.oneof(fc.constantFrom(0, 1, 5, 14), fc.integer({ min: 0, max: 15 })),
        minutes: fc.constantFrom(0, 30, 45, 59, 60),
      }),
    ),
  })
  .map(({ t, shape, separator, zone }) => {
    const offset = typeof zone === 'string' ? 0 : zone.sign * (zone.hours * 60 + zone.minutes)
    const iso = new Date(t + offset * MINUTE_MS).toISOString()
    const date = iso.slice(0, 10)
    if (shape === 'date') return date
    const time = { minutes: 16, seconds: 19, f1: 21, f2: 22, f3: 23 }[shape]
    const suffix =
      zone === 'none'
        ? ''
        : zone === 'Z'
          ? 'Z'
          : `${zone.sign < 0 ? '-' : '+'}${pad(zone.hours)}:${pad(zone.minutes)}`
    return `${date}${separator}${iso.slice(11, time)}${suffix}`
  })

/** The ends of months, in leap years and not: February 29 to 31 must be refused when wrong. */
const aMonthEnd = fc
  .record({
    year: fc.constantFrom(0, 1900, 2000, 2024, 2025, 2100),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 28, max: 32 }),
    time: fc.constantFrom('', 'T12:00', ' 00:00:00.5Z'),
  })
  .map(({ year, month, day, time }) => `${pad(year, 4)}-${pad(month)}-${pad(day)}${time}`)

/** Strings SQLite's date functions would take, or that nearly match the doc, but are not dates. */
const NOT_DATES = [
  '2026-02-30',
  '2026-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-12-00',
  '2026-12-32',
  '2026-12-06T24:00',
  '2026-12-06T23:60',
  '2026-12-06T10:00:60',
  '2026-12-06T10:00+15:00',
  '2026-12-06T10:00+05:60',
  '2026-12-06Z',
  '2026-12-06+01:00',
  '2026-12-06T10',
  '2026-12-06T10:00:00.1234',
  '2026-12-06T10:00:00.',
  '2026-12-06t10:00',
  '2026-12-06T10:00z',
  '2026-12-06T10:00 Z',
  '2026-12-06T10:00+0100',
  '2026-12-06\u0000',
  '2026-12-06\n',
  ' 2026-12-06',
  '2026-12-06 ',
  '２０２６-12-06',
  '26-12-06',
  '+02026-12-06',
  'now',
  '2461015.5',
  '10:00',
  '1733472000',
]
/** Valid, but where calendars and epochs are easy to get wrong. */
const ODD_DATES = [
  '0000-02-29',
  '0000-01-01T00:00Z',
  '1969-12-31T23:59:59.999Z',
  '2024-02-29 12:00-14:59',
  '9999-12-31T23:59:59.999+14:00',
]

/** A date with one character replaced, inserted or deleted: mostly not a date any more. */
const aNearDate = fc
  .record({
    date: aDate,
    at: fc.nat(),
    edit: fc.constantFrom('replace', 'insert', 'delete'),
    char: fc.constantFrom(...'0159:-+.TtZz ', '\u0000', '\n', '٣', '+01:00', '.0'),
  })
  .map(({ date, at, edit, char }) => {
    const i = at % (date.length + 1)
    if (edit === 'delete') return date.slice(0, i) + date.slice(i + 1)
    return date.slice(0, i) + char + date.slice(edit === 'insert' ? i : i + 1)
  })

const aDateString = fc.oneof(
  { weight: 5, arbitrary: aDate },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_DATES, ...ODD_DATES) },
  { weight: 2, arbitrary: aNearDate },
  { weight: 1, arbitrary: aMonthEnd },
  // SQLite's length and GLOB read text only up to a NUL.
  {
    weight: 1,
    arbitrary: fc
      .tuple(aDate, fc.constantFrom('\u0000', '\u0000Z', '\u0000junk', '\n'))
      .map(([date, tail]) => date + tail),
  },
)

// ---- contacts ----

// A key JSON writes with an escape (the tab), which a JSON path must still find.
const ODD_KEY = 'ñ\t😀 key'
const TRAIT_KEYS = ['plan', 'age', 'tags', 'vip', 'signedUpAt', 'address', 'name', ODD_KEY]
const TRAIT_PATHS = [...TRAIT_KEYS, 'address.city']
const EVENT_NAMES = ['Viewed Pricing', 'Order Completed', '$page', '$screen', "Don't 'quote'"]
const PAGE_NAMES = ['Viewed Pricing', 'Home', null]
const PROPERTY_KEYS = ['revenue', 'category', 'items', 'meta']
const PROPERTY_PATHS = [...PROPERTY_KEYS, 'meta.source']
const LISTS = ['vip-list', 'beta']
const GROUPS = ['news', 'promo']
const JOURNEYS = ['onboarding', 'winback']
const TEMPLATES = ['t1', "t'2"]
const ACCOUNT_KEYS = ['plan', 'seats', 'region']
const ACCOUNT_TRAITS = [...ACCOUNT_KEYS, 'region.name']
const SEGMENT_IDS = ['seg-a', 'seg-b', 'seg-c']

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: aScalar },
  { weight: 2, arbitrary: aDateString },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.array(fc.oneof(aScalar, fc.constant(null)), { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom('city', 'source', 'name'), aScalar, { maxKeys: 2 }),
  },
)

/** What each key usually holds; any key sometimes holds anything. */
const TYPICAL: Record<string, fc.Arbitrary<unknown>> = {
  plan: aString,
  age: aNumber,
  tags: fc.array(aString, { maxLength: 3 }),
  vip: fc.boolean(),
  signedUpAt: aDateString,
  address: fc.record({ city: fc.oneof(aString, aDateString) }, { requiredKeys: [] }),
  name: aString,
  [ODD_KEY]: aString,
  revenue: aNumber,
  category: aString,
  items: fc.array(aScalar, { maxLength: 3 }),
  meta: fc.record({ source: aString }, { requiredKeys: [] }),
  seats: aNumber,
  region: fc.record({ name: aString }, { requiredKeys: [] }),
}

/**
 * An object with some of `keys` at the top, each usually its typical value; now and then a key
 * is written with a literal dot (`"address.city"`), which a dotted path must not find.
 */
function anObject(keys: string[], dottedKey: string): fc.Arbitrary<Record<string, unknown>> {
  const entries = keys.map((key) =>
    fc.option(
      fc.oneof({ weight: 4, arbitrary: TYPICAL[key]! }, { weight: 1, arbitrary: anyJson }),
      { freq: 3, nil: undefined },
    ),
  )
  return fc
    .tuple(fc.tuple(...entries), fc.option(anyJson, { freq: 6, nil: undefined }))
    .map(([values, dotted]) => {
      const object: Record<string, unknown> = {}
      keys.forEach((key, i) => {
        if (values[i] !== undefined) object[key] = values[i]
      })
      if (dotted !== undefined) object[dottedKey] = dotted
      return object
    })
}

interface EventRow {
  idPart: string
  type: 'track' | 'page' | 'screen'
  event: string | null
  at: number
  bot: boolean
  properties: Record<string, unknown>
}

const anEvent: fc.Arbitrary<EventRow> = fc.record({
  idPart: fc.stringMatching(/^[a-c]{1,2}$/),
  type: fc.constantFrom('track', 'track', 'page', 'screen'),
  event: fc.constantFrom<string | null>(
    ...EVENT_NAMES.filter((n) => !n.startsWith('$')),
    ...PAGE_NAMES,
  ),
  // Often one of two instants, so events tie on their time and the id decides; both are
  // window edges too.
  at: fc.oneof(
    { weight: 1, arbitrary: anInstant },
    { weight: 1, arbitrary: fc.constantFrom(NOW - DAY_MS, NOW - 60 * MINUTE_MS) },
  ),
  bot: fc.constantFrom(false, false, false, true),
  properties: anObject(PROPERTY_KEYS, 'meta.source'),
})

interface ContactData {
  keyPart: string
  merged: boolean
  traits: Record<string, unknown>
  events: EventRow[]
  consent: Record<Purpose, boolean | null> | null
  lists: string[]
  accounts: Record<string, unknown>[]
  messages: { kind: MessageEvent; template: string | null; at: number }[]
  subscriptions: Record<string, boolean>
  journeys: { journey: string; state: JourneyState }[]
  predictions: Record<Prediction, number | null> | null
}

const aConsentValue = fc.constantFrom(true, false, null)
const aPrediction = fc.oneof(
  fc.constant(null),
  aNumber.filter((n) => Math.abs(n) < 1e300),
)

const aContact: fc.Arbitrary<ContactData> = fc.record({
  keyPart: fc.string({ unit: 'grapheme', maxLength: 3 }),
  merged: fc.boolean().chain((b) => (b ? fc.boolean() : fc.constant(false))),
  traits: anObject(TRAIT_KEYS, 'address.city'),
  events: fc.array(anEvent, { maxLength: 8 }),
  consent: fc.option(
    fc.record({
      analytics: aConsentValue,
      marketing: aConsentValue,
      personalization: aConsentValue,
      advertising: aConsentValue,
    }),
  ),
  lists: fc.subarray(LISTS),
  accounts: fc.array(anObject(ACCOUNT_KEYS, 'region.name'), { maxLength: 2 }),
  messages: fc.array(
    fc.record({
      kind: fc.constantFrom<MessageEvent>('sent', 'opened', 'clicked'),
      template: fc.constantFrom(null, ...TEMPLATES),
      at: anInstant,
    }),
    { maxLength: 4 },
  ),
  subscriptions: fc.dictionary(fc.constantFrom(...GROUPS), fc.boolean(), { maxKeys: 2 }),
  journeys: fc.array(
    fc.record({ journey: fc.constantFrom(...JOURNEYS), state: fc.constantFrom(...JOURNEY_STATES) }),
    { maxLength: 2 },
  ),
  predictions: fc.option(
    fc.record({
      churnRisk: aPrediction,
      lapseRisk: aPrediction,
      engagement: aPrediction,
      pAlive: aPrediction,
      clv: aPrediction,
    }),
  ),
})

// ---- rules (valid by the contract: the test checks each with RuleSchema) ----

/** The values a condition on each path usually names: of the kind the path usually holds. */
const LIKELY: Record<string, fc.Arbitrary<Scalar>> = {
  plan: aString,
  name: aString,
  [ODD_KEY]: aString,
  age: aNumber,
  vip: fc.boolean(),
  tags: aString,
  signedUpAt: aDateString,
  address: aString,
  'address.city': aString,
  revenue: aNumber,
  category: aString,
  items: aScalar,
  meta: aString,
  'meta.source': aString,
  seats: aNumber,
  region: aString,
  'region.name': aString,
}

function aCondition(likely: fc.Arbitrary<Scalar>): fc.Arbitrary<ValueCondition> {
  const aValue = fc.oneof({ weight: 3, arbitrary: likely }, { weight: 1, arbitrary: aScalar })
  return fc.constantFrom(...VALUE_OPS).chain((op): fc.Arbitrary<ValueCondition> => {
    if (op === 'exists' || op === 'not_exists') return fc.constant({ op })
    if (op === 'in') return fc.array(aValue, { maxLength: 4 }).map((value) => ({ op, value }))
    return aValue.map((value) => ({ op, value }))
  })
}

/** A path of `paths` and a condition on it. */
function onPath(paths: string[]): fc.Arbitrary<[string, ValueCondition]> {
  return fc
    .constantFrom(...paths)
    .chain((path) => aCondition(LIKELY[path]!).map((c): [string, ValueCondition] => [path, c]))
}

const aProperty: fc.Arbitrary<PropertyCondition> = onPath(PROPERTY_PATHS).map(
  ([property, condition]) => ({ property, ...condition }),
)

const aCount = fc.record({
  op: fc.constantFrom<'gte' | 'eq' | 'lte'>('gte', 'eq', 'lte'),
  value: fc.integer({ min: 0, max: 3 }),
})

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined })

/** Drops the keys whose value is undefined: the contract's objects are strict. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T
}

const aTraitRule = onPath(TRAIT_PATHS).map(([trait, condition]): Rule => ({ trait, ...condition }))
const aDateRule = fc
  .tuple(
    fc.constantFrom('signedUpAt', 'signedUpAt', 'signedUpAt', 'address.city', 'plan'),
    fc.constantFrom<'within' | 'before'>('within', 'before'),
    aDuration,
  )
  .map(([trait, op, duration]): Rule => ({ trait, op, duration }))

/** Any kind but all/any/not; traits and dates more often, having the most cases. */
function leaf(segments: string[]): fc.Arbitrary<Rule> {
  const kinds: fc.Arbitrary<Rule>[] = [
    fc
      .record({
        performed: fc.constantFrom(...EVENT_NAMES),
        where: optional(fc.array(aProperty, { maxLength: 2 })),
        count: optional(aCount),
        within: optional(aDuration),
      })
      .map((rule) => defined(rule) as Rule),
    fc
      .record({
        lastPerformed: fc.constantFrom(...EVENT_NAMES),
        where: optional(fc.array(aProperty, { maxLength: 2 })),
        has: fc.array(aProperty, { minLength: 1, maxLength: 2 }),
      })
      .map((rule) => defined(rule) as Rule),
    fc.record({ consent: fc.constantFrom(...PURPOSES), granted: fc.boolean() }),
    fc
      .record({
        message: fc.constantFrom<MessageEvent>(...MESSAGE_EVENTS.filter((k) => k !== 'bounced')),
        template: optional(fc.constantFrom(...TEMPLATES)),
        count: optional(aCount),
        within: optional(aDuration),
      })
      .map((rule) => defined(rule) as Rule),
    fc.record({ subscribed: fc.constantFrom(...GROUPS, 'other'), value: fc.boolean() }),
    fc.record({ list: fc.constantFrom(...LISTS, 'nobody') }),
    fc
      .record({
        percent: fc.integer({ min: 1, max: 10_000 }).map((cents) => cents / 100),
        salt: optional(fc.constantFrom('', 'exp-1', 'ünï 😀', "'")),
      })
      .map((bucket): Rule => ({ bucket: defined(bucket) })),
    fc.record({ journey: fc.constantFrom(...JOURNEYS), state: fc.constantFrom(...JOURNEY_STATES) }),
    onPath(ACCOUNT_TRAITS).map(([trait, condition]): Rule => ({
      account: { trait, ...condition },
    })),
    fc
      .tuple(fc.constantFrom(...PREDICTIONS), aCondition(aNumber))
      .map(([prediction, condition]): Rule => ({ prediction, ...condition })),
  ]
  if (segments.length > 0) {
    kinds.push(fc.constantFrom(...segments, 'unknown').map((inSegment): Rule => ({ inSegment })))
  }
  return fc.oneof(
    { weight: 3, arbitrary: aTraitRule },
    { weight: 3, arbitrary: aDateRule },
    ...kinds.map((arbitrary) => ({ weight: 1, arbitrary })),
  )
}

/** Rules that may reference only `segments`, so the segments generated below form no cycle. */
function aRule(segments: string[]): fc.Arbitrary<Rule> {
  const { rule } = fc.letrec<{ rule: Rule }>((tie) => ({
    rule: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 5, arbitrary: leaf(segments) },
      {
        weight: 1,
        arbitrary: fc
          .array(tie('rule'), { minLength: 1, maxLength: 3 })
          .map((all): Rule => ({ all })),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(tie('rule'), { minLength: 1, maxLength: 3 })
          .map((any): Rule => ({ any })),
      },
      { weight: 1, arbitrary: tie('rule').map((not): Rule => ({ not })) },
    ),
  }))
  return rule
}

/** seg-c references nothing, seg-b may reference seg-c, seg-a both. */
const aLookup = fc.tuple(aRule(['seg-b', 'seg-c']), aRule(['seg-c']), aRule([])).map(
  ([a, b, c]) =>
    new Map<string, Rule>([
      ['seg-a', a],
      ['seg-b', b],
      ['seg-c', c],
    ]),
)

// ---- D1 ----

interface Stored {
  key: string
  lastSeen: string
  data: ContactData
  /** The D1 id of each of data.events. */
  eventIds: string[]
}

/**
 * Every key starts so: keys are part of what is tested (random buckets hash them), so they
 * follow from the generated data alone, and a failure replays from its seed.
 */
const PREFIX = 'agreement:'

function place(contacts: ContactData[]): Stored[] {
  return contacts.map((data, i) => ({
    key: `${PREFIX}${data.keyPart}#${i}`,
    lastSeen: new Date(NOW - i * 1000).toISOString(),
    data,
    // The random part first, so it decides the order of events that tie on their time.
    eventIds: data.events.map((e, j) => `${PREFIX}${e.idPart}:${i}:${j}`),
  }))
}

const bit = (v: boolean | null) => (v === null ? null : v ? 1 : 0)

async function store(stored: Stored[]) {
  const db = env.DB
  const statements: D1PreparedStatement[] = []
  const insert = (sql: string, ...values: unknown[]) =>
    statements.push(db.prepare(sql).bind(...values))
  for (const { key, lastSeen, data, eventIds } of stored) {
    insert(
      `INSERT INTO contacts (key, anonymous_ids, traits, first_seen, last_seen, event_count,
         version, merged_into, bucket_seed) VALUES (?, '[]', ?, ?, ?, 0, 1, ?, ?)`,
      key,
      JSON.stringify(data.traits),
      lastSeen,
      lastSeen,
      data.merged ? `${key}-survivor` : null,
      bucketSeed(key),
    )
    data.events.forEach((event, j) => {
      const timestamp = new Date(event.at).toISOString()
      insert(
        `INSERT INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
           received_at, day, landing, bot, properties)
         VALUES (?, ?, ?, 'src_agreement', ?, ?, ?, ?, ?, 0, ?, ?)`,
        eventIds[j],
        eventIds[j],
        key,
        event.type,
        event.event,
        timestamp,
        timestamp,
        timestamp.slice(0, 10),
        event.bot ? 1 : 0,
        JSON.stringify(event.properties),
      )
    })
    if (data.consent) {
      const c = data.consent
      insert(
        `INSERT INTO contact_consent (contact_key, analytics, marketing, personalization,
           advertising, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
        key,
        bit(c.analytics),
        bit(c.marketing),
        bit(c.personalization),
        bit(c.advertising),
        lastSeen,
      )
    }
    for (const list of data.lists) {
      insert(
        'INSERT INTO list_members (list_id, contact_key, added_at) VALUES (?, ?, ?)',
        list,
        key,
        lastSeen,
      )
    }
    data.accounts.forEach((traits, i) =>
      insert(
        `INSERT INTO contact_accounts (contact_key, group_id, traits, updated_at)
         VALUES (?, ?, ?, ?)`,
        key,
        `account-${i}`,
        JSON.stringify(traits),
        lastSeen,
      ),
    )
    data.messages.forEach((message, i) =>
      insert(
        `INSERT INTO message_events (id, contact_key, kind, template_id, at)
         VALUES (?, ?, ?, ?, ?)`,
        `${key}:message:${i}`,
        key,
        message.kind,
        message.template,
        new Date(message.at).toISOString(),
      ),
    )
    for (const [group, subscribed] of Object.entries(data.subscriptions)) {
      insert(
        `INSERT INTO contact_subscriptions (contact_key, group_id, subscribed, updated_at)
         VALUES (?, ?, ?, ?)`,
        key,
        group,
        bit(subscribed),
        lastSeen,
      )
    }
    data.journeys.forEach((run, i) =>
      insert(
        `INSERT INTO journey_runs (id, contact_key, journey_id, version, state, started_at,
           updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)`,
        `${key}:run:${i}`,
        key,
        run.journey,
        run.state,
        lastSeen,
        lastSeen,
      ),
    )
    if (data.predictions) {
      const p = data.predictions
      insert(
        `INSERT INTO contact_predictions (contact_key, engagement, churn_risk, lapse_risk, p_alive,
           clv, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        key,
        p.engagement,
        p.churnRisk,
        p.lapseRisk,
        p.pAlive,
        p.clv,
        lastSeen,
      )
    }
  }
  if (statements.length > 0) await db.batch(statements)
}

const CONTACT_KEYED = [
  'events',
  'contact_consent',
  'list_members',
  'contact_accounts',
  'message_events',
  'contact_subscriptions',
  'journey_runs',
  'contact_predictions',
]

/** Deletes every row this test wrote, including those of a run that failed half way. */
async function clear() {
  const ours = (column: string) => `substr(${column}, 1, ${PREFIX.length}) = '${PREFIX}'`
  await env.DB.batch([
    env.DB.prepare(`DELETE FROM contacts WHERE ${ours('key')}`),
    ...CONTACT_KEYED.map((table) =>
      env.DB.prepare(`DELETE FROM ${table} WHERE ${ours('contact_key')}`),
    ),
  ])
}

/** Through JSON, as D1 holds it (-0 is 0, and so on). */
const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

/** What the contact's object would answer from the same rows; bots are never facts. */
function factsOf({ key, data, eventIds }: Stored): ContactFacts {
  const events = data.events.flatMap((e, j) =>
    e.bot ? [] : [{ ...e, id: eventIds[j]!, properties: asStored(e.properties) }],
  )
  const named = (name: string) =>
    name === PAGE_EVENT
      ? (e: EventRow) => e.type === 'page'
      : name === SCREEN_EVENT
        ? (e: EventRow) => e.type === 'screen'
        : (e: EventRow) => e.type === 'track' && e.event === name
  return {
    key,
    traits: asStored(data.traits),
    events: (name) => events.filter(named(name)),
    consent: (purpose) => data.consent?.[purpose] ?? null,
    inList: (list) => data.lists.includes(list),
    accounts: () => asStored(data.accounts),
    messages: (kind) => data.messages.filter((m) => m.kind === kind),
    subscribed: (group) => data.subscriptions[group] ?? null,
    journeyStates: (journey) =>
      data.journeys.filter((r) => r.journey === journey).map((r) => r.state),
    prediction: (name) => data.predictions?.[name] ?? null,
  }
}

async function keysOf(statement: SqlStatement): Promise<string[]> {
  const { results } = await env.DB.prepare(statement.sql)
    .bind(...statement.params)
    .all<{ key: string }>()
  return results.map((row) => row.key)
}

/** Pages through this run's members three at a time, as a backfill would. */
async function pagedMembers(rule: Rule, options: CompileOptions) {
  const keys: string[] = []
  let after = PREFIX
  for (;;) {
    const page = await keysOf(membersQuery(rule, options, after, 3))
    const ours = page.filter((key) => key.startsWith(PREFIX))
    keys.push(...ours)
    if (ours.length < 3) return keys
    after = ours[2]!
  }
}

const sorted = (keys: string[]) => [...keys].sort()

function disagreement(rule: Rule, stored: Stored[], expected: string[], actual: string[]): string {
  const differ = stored.filter((s) => expected.includes(s.key) !== actual.includes(s.key))
  return [
    `rule ${JSON.stringify(rule)}`,
    ...differ.map(
      (s) =>
        `${s.key}: evaluate says ${expected.includes(s.key)}, SQL ${actual.includes(s.key)}; ` +
        JSON.stringify(s.data),
    ),
  ].join('\n')
}

const aWorld = fc.record({
  now: fc.constantFrom(...NOWS),
  contacts: fc.array(aContact, { maxLength: 10 }),
  lookup: aLookup,
  rules: fc.array(aRule(SEGMENT_IDS), { minLength: 1, maxLength: 6 }),
})

describe('segment rules in the contact and in D1', () => {
  it('name the same members, for any rule and any contacts', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(aWorld, async ({ now, contacts, lookup, rules }) => {
        const stored = place(contacts)
        await clear()
        await store(stored)
        try {
          const segmentLookup: SegmentLookup = (id) => lookup.get(id)
          const options: CompileOptions = { now, lookup: segmentLookup }
          const live = stored.filter((s) => !s.data.merged)
          for (const rule of [...rules, ...lookup.values()]) {
            expect(RuleSchema.safeParse(rule).error).toBeUndefined()
            const expected = live
              .filter((s) => evaluate(rule, factsOf(s), now, segmentLookup))
              .map((s) => s.key)
            const actual = await pagedMembers(rule, options)
            if (sorted(actual).join('\n') !== sorted(expected).join('\n')) {
              throw new Error(disagreement(rule, stored, expected, actual))
            }
            // The count and the unpaged members in one transaction: the same number.
            const [count, members] = await env.DB.batch(
              [countQuery(rule, options), membersQuery(rule, options, null, 1_000_000)].map((q) =>
                env.DB.prepare(q.sql).bind(...q.params),
              ),
            )
            expect((count!.results[0] as { n: number }).n).toBe(members!.results.length)
            const sample = (await keysOf(sampleQuery(rule, options, 1_000_000))).filter((key) =>
              key.startsWith(PREFIX),
            )
            const byLastSeen = live.filter((s) => expected.includes(s.key)).map((s) => s.key)
            expect(sample).toEqual(byLastSeen)
          }
        } finally {
          await clear()
        }
      }),
      // About 30 s; a failure prints its seed and path, which `seed` and `path` here replay.
      { numRuns: 500 },
    )
  })
})
