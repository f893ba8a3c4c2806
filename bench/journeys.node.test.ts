import { describe, expect, it } from 'vitest'
import { JourneyDefinitionSchema } from '../contracts/journey'
import { RuleSchema } from '../contracts/segment'
import {
  LATENCY_JOURNEY,
  LIVE_JOURNEYS,
  SEGMENTS,
  SIGNUP_EVENT,
  TEMPLATES,
  withRefs,
} from './journeys-definitions.ts'
import { delays, recordSeen } from './journeys-delays.ts'
import { runTotals } from './journeys-metrics.ts'
import { entryEventFor, entryRequest, signupMessages } from './journeys-load.ts'
import {
  compareCpu,
  JOURNEY_TARGETS,
  judgeOnce,
  judgeOperation,
  judgeQueued,
} from './journeys-targets.ts'
import type { LatencySummary } from './load/latency.ts'
import { createWorkload } from './workload.ts'

const refs = {
  templates: new Map(TEMPLATES.map((t) => [t.slug, `tpl_${t.slug}`])),
  segments: new Map(SEGMENTS.map((s) => [s.slug, `seg_${s.slug}`])),
}

describe('the journeys the section creates', () => {
  it('publishes as many live journeys as the target names, each slug once', () => {
    expect(LIVE_JOURNEYS).toHaveLength(JOURNEY_TARGETS.liveJourneys)
    expect(new Set(LIVE_JOURNEYS.map((j) => j.slug)).size).toBe(LIVE_JOURNEYS.length)
  })

  it('gives the API only definitions and rules it accepts, every reference resolved', () => {
    for (const journey of [...LIVE_JOURNEYS, { slug: 'latency', definition: LATENCY_JOURNEY }]) {
      const definition = withRefs(journey.definition, refs)
      const parsed = JourneyDefinitionSchema.safeParse(definition)
      expect(parsed.success, `${journey.slug}: ${parsed.error?.message}`).toBe(true)
      expect(JSON.stringify(definition), journey.slug).not.toMatch(/"(template|segment):/)
    }
    for (const segment of SEGMENTS) expect(RuleSchema.safeParse(segment.rule).success).toBe(true)
  })

  it('mixes journeys on events the workload sends, on segments, and on nothing it sends', () => {
    const workload = createWorkload({
      contacts: 200,
      activeVisitors: 50,
      batchSize: 20,
      seed: 1,
      writeKey: 'wk',
    })
    const sent = new Set<string>()
    for (let i = 0; i < 5000; i++) {
      const body = JSON.parse(workload.single().body) as { event?: string }
      if (body.event) sent.add(body.event)
    }
    for (const journey of LIVE_JOURNEYS) {
      const entry = journey.definition.entry
      if ('event' in entry) {
        expect(sent.has(entry.event), journey.slug).toBe(journey.kind === 'workload event')
      } else {
        expect(journey.kind, journey.slug).toBe('segment' in entry ? 'segment' : 'never entered')
      }
    }
    const kinds = LIVE_JOURNEYS.map((j) => j.kind)
    expect(kinds.filter((k) => k === 'workload event').length).toBeGreaterThanOrEqual(8)
    expect(kinds.filter((k) => k === 'segment').length).toBeGreaterThanOrEqual(2)
  })

  it('times a journey that emails a transactional template, so no consent is needed', () => {
    expect(LATENCY_JOURNEY.entry).toEqual({ event: SIGNUP_EVENT })
    const emailNode = Object.values(LATENCY_JOURNEY.nodes).find((n) => n.type === 'email')
    const slug = emailNode && 'template' in emailNode ? emailNode.template.split(':')[1] : null
    expect(TEMPLATES.find((t) => t.slug === slug)?.kind).toBe('transactional')
    for (const journey of LIVE_JOURNEYS) {
      const entry = journey.definition.entry
      expect('event' in entry && entry.event === SIGNUP_EVENT, journey.slug).toBe(false)
    }
  })
})

describe('withRefs', () => {
  it('swaps template and segment slugs at any depth and leaves other strings alone', () => {
    expect(
      withRefs(
        { a: ['template:welcome', { b: 'segment:pro' }], time: '10:00', other: 'x:y' },
        refs,
      ),
    ).toEqual({ a: ['tpl_welcome', { b: 'seg_pro' }], time: '10:00', other: 'x:y' })
  })

  it('refuses a slug that was not created', () => {
    expect(() => withRefs({ template: 'template:nope' }, refs)).toThrow('no template "nope"')
  })
})

describe('the requests the section adds', () => {
  it('identifies each latency contact with an address before its timed event', () => {
    const { identify, track } = signupMessages('bench-journey-c1', 0)
    expect(identify.traits.email).toBe('bench-journey-c1@example.com')
    expect(track).toMatchObject({ userId: 'bench-journey-c1', event: SIGNUP_EVENT })
    expect(track.messageId).not.toBe(identify.messageId)
  })

  it('sends an entry event to some contacts only, products added the most', () => {
    const events = Array.from({ length: 100 }, (_, n) => entryEventFor(n)?.event ?? null)
    const countOf = (name: string | null) => events.filter((e) => e === name).length
    expect(countOf('Product Added')).toBeGreaterThan(countOf('Checkout Started'))
    expect(countOf('Checkout Started')).toBeGreaterThan(0)
    expect(countOf('Newsletter Subscribed')).toBeGreaterThan(0)
    expect(countOf(null)).toBeGreaterThan(50)
  })

  it('sends the entry event as the contact of the first visit, with its address and key', () => {
    const workload = createWorkload({
      contacts: 10,
      activeVisitors: 5,
      batchSize: 20,
      seed: 3,
      writeKey: 'wk',
    })
    const visit = workload.firstVisit()
    const page = JSON.parse(visit.body) as Record<string, unknown>
    const request = entryRequest(visit, 'Product Added', { price: 1 })
    const track = JSON.parse(request.body) as Record<string, unknown>
    expect(request.path).toBe('/v1/track')
    expect(request.headers).toEqual(visit.headers)
    expect(track).toMatchObject({
      type: 'track',
      event: 'Product Added',
      anonymousId: page.anonymousId,
      properties: { price: 1 },
    })
    expect(track.userId).toBe(page.userId)
    expect(request.messageIds).toEqual([track.messageId])
    expect(track.messageId).not.toBe(page.messageId)
  })
})

describe('delays', () => {
  const sent = [
    { contactKey: 'a', startedAt: 1000 },
    { contactKey: 'b', startedAt: 2000 },
    { contactKey: 'c', startedAt: 3000 },
  ]

  it('times each event to its first row and counts the missing, the doubled and the unknown', () => {
    const result = delays(sent, [
      { contactKey: 'a', at: 1050 },
      { contactKey: 'b', at: 2300 },
      { contactKey: 'b', at: 2200 },
      { contactKey: 'z', at: 10 },
    ])
    expect(result.latency.count).toBe(2)
    expect(result.latency.max).toBe(200)
    expect(result.latency.p50).toBe(50)
    expect(result).toMatchObject({ missing: 1, extra: 1, unknown: 1 })
  })

  it('keeps the time of the poll that first saw a row', () => {
    const seen = new Map()
    expect(recordSeen(seen, [{ key: 'm1', contactKey: 'a' }], 100)).toBe(1)
    expect(
      recordSeen(
        seen,
        [
          { key: 'm1', contactKey: 'a' },
          { key: 'm2', contactKey: 'b' },
        ],
        200,
      ),
    ).toBe(1)
    expect(seen.get('m1')).toEqual({ contactKey: 'a', at: 100 })
    expect(seen.get('m2')).toEqual({ contactKey: 'b', at: 200 })
  })
})

const latency = (p50: number, p95: number, p99: number, count = 500): LatencySummary => ({
  count,
  mean: p50,
  p50,
  p95,
  p99,
  max: p99,
})

describe('the journeys targets', () => {
  it('judges queued on the p99 of the event requests, under a second', () => {
    expect(judgeQueued(latency(20, 60, 999)).met).toBe(true)
    expect(judgeQueued(latency(20, 60, 1000)).met).toBe(false)
    expect(judgeQueued(null).met).toBeNull()
    expect(judgeQueued(latency(20, 60, 90, 50)).note).toContain('the p99 is the slowest')
  })

  it('wants one message and one email per event, none doubled', () => {
    const books = {
      events: 10,
      contactsWithMessage: 10,
      extraMessages: 0,
      contactsWithEmail: 10,
      extraEmails: 0,
    }
    expect(judgeOnce(books).met).toBe(true)
    expect(judgeOnce({ ...books, contactsWithEmail: 9 }).met).toBe(false)
    expect(judgeOnce({ ...books, extraMessages: 1 }).met).toBe(false)
  })

  it('judges an operation on its p95 under 200 ms, and fails it when requests failed', () => {
    expect(judgeOperation({ name: 'publish', latency: latency(20, 199, 300), failed: 0 }).met).toBe(
      true,
    )
    expect(judgeOperation({ name: 'publish', latency: latency(20, 200, 300), failed: 0 }).met).toBe(
      false,
    )
    const failing = judgeOperation({ name: 'publish', latency: latency(5, 9, 9), failed: 3 })
    expect(failing.met).toBe(false)
    expect(failing.note).toContain('3 requests failed')
  })

  it("reports the CPU ratio as the pairs' median, against segments' bound as a yardstick", () => {
    const result = compareCpu('returning', [
      { none: 2, live: 2.2, failed: 0 },
      { none: 2, live: 3, failed: 0 },
      { none: 2, live: 2.4, failed: 0 },
    ])
    expect(result.ratio).toBeCloseTo(1.2)
    expect(result.note).toContain('within')
    expect(compareCpu('returning', [{ none: null, live: 2, failed: 0 }]).ratio).toBeNull()
  })
})

describe('runTotals', () => {
  it("sums the runs of every journey's versions, an unknown journey adding none", () => {
    const totals = runTotals([
      {
        versions: [
          { version: 1, entered: 5, active: 2, completed: 3, exited: 0, converted: 1, nodes: {} },
          { version: 2, entered: 1, active: 1, completed: 0, exited: 0, converted: 0, nodes: {} },
        ],
      },
      { error: { code: 'not_found' } },
      { versions: [{ version: 1, entered: 4, active: 0, completed: 2, exited: 2, converted: 0 }] },
    ])
    expect(totals).toEqual({ entered: 10, active: 3, completed: 5, exited: 2, converted: 1 })
  })
})
