import { describe, expect, it } from 'vitest'
import {
  ENGAGEMENT_DEFAULTS,
  type EngagementState,
  emptyEngagement,
  engagementAfterEvent,
  engagementAt,
  engagementScore,
} from './engagement'

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)
const points = (state: EngagementState) => state.views + state.actions + state.purchases

describe('engagement', () => {
  it('halves its points at the half-life and quarters them at two', () => {
    const state = engagementAfterEvent(emptyEngagement(T0), { kind: 'track', at: T0 }, T0)
    expect(points(state)).toBe(2)
    expect(points(engagementAt(state, T0 + 14 * DAY))).toBeCloseTo(1, 12)
    expect(points(engagementAt(state, T0 + 28 * DAY))).toBeCloseTo(0.5, 12)
    const custom = { ...ENGAGEMENT_DEFAULTS, halfLifeMs: 3 * DAY }
    expect(points(engagementAt(state, T0 + 3 * DAY, custom))).toBeCloseTo(1, 12)
  })

  it('gives the scores the formula promises', () => {
    const view = engagementAfterEvent(emptyEngagement(T0), { kind: 'page', at: T0 }, T0)
    expect(engagementScore(view, T0)).toBeCloseTo(100 * (1 - Math.exp(-1 / 20)), 12)
    // A purchase of 50: 10 + 5 ln 51 points; 77 now, 52 after a fortnight, 31 after four weeks.
    const bought = engagementAfterEvent(
      emptyEngagement(T0),
      { kind: 'purchase', at: T0, value: 50 },
      T0,
    )
    expect(bought.purchases).toBeCloseTo(10 + 5 * Math.log(51), 12)
    expect(Math.round(engagementScore(bought, T0))).toBe(77)
    expect(Math.round(engagementScore(bought, T0 + 14 * DAY))).toBe(52)
    expect(Math.round(engagementScore(bought, T0 + 28 * DAY))).toBe(31)
  })

  it('settles between 62.6 and 64.5 for a page view a day', () => {
    let state = emptyEngagement(T0)
    for (let day = 0; day < 365; day++) {
      state = engagementAfterEvent(state, { kind: 'page', at: T0 + day * DAY }, T0 + day * DAY)
    }
    const last = T0 + 364 * DAY
    expect(engagementScore(state, last)).toBeGreaterThan(64.4)
    expect(engagementScore(state, last)).toBeLessThan(64.5)
    expect(engagementScore(state, last + DAY - 1)).toBeGreaterThan(62.6)
  })

  it('never falls on an event, and rises more for a purchase worth more', () => {
    let state = emptyEngagement(T0)
    const kinds = ['page', 'screen', 'track', 'purchase'] as const
    for (let i = 0; i < 200; i++) {
      const at = T0 + i * 3_600_000
      const before = engagementScore(state, at)
      state = engagementAfterEvent(state, { kind: kinds[i % 4]!, at, value: i }, at)
      expect(engagementScore(state, at)).toBeGreaterThanOrEqual(before)
    }
    const base = emptyEngagement(T0)
    const small = engagementAfterEvent(base, { kind: 'purchase', at: T0, value: 5 }, T0)
    const large = engagementAfterEvent(base, { kind: 'purchase', at: T0, value: 500 }, T0)
    const refund = engagementAfterEvent(base, { kind: 'purchase', at: T0, value: -40 }, T0)
    expect(engagementScore(large, T0)).toBeGreaterThan(engagementScore(small, T0))
    expect(refund.purchases).toBe(10)
  })

  it('stays within 0–100, from nothing to a flood', () => {
    expect(engagementScore(emptyEngagement(T0), T0)).toBe(0)
    let state = emptyEngagement(T0)
    for (let i = 0; i < 5000; i++) {
      state = engagementAfterEvent(state, { kind: 'purchase', at: T0, value: 1e9 }, T0)
    }
    const score = engagementScore(state, T0)
    expect(score).toBeGreaterThan(99.9)
    expect(score).toBeLessThanOrEqual(100)
    expect(engagementScore(state, T0 + 3650 * DAY)).toBeGreaterThanOrEqual(0)
  })

  it('counts a late event as decayed since it happened, and a future one no more than in full', () => {
    const now = T0 + 14 * DAY
    const late = engagementAfterEvent(emptyEngagement(now), { kind: 'track', at: T0 }, now)
    expect(points(late)).toBeCloseTo(1, 12)
    const early = engagementAfterEvent(emptyEngagement(T0), { kind: 'track', at: now }, T0)
    expect(points(early)).toBe(2)
    // Arriving in any order gives the same points at the end.
    const a = { kind: 'page', at: T0 } as const
    const b = { kind: 'purchase', at: T0 + 5 * DAY, value: 20 } as const
    const inOrder = engagementAfterEvent(
      engagementAfterEvent(emptyEngagement(T0), a, a.at),
      b,
      b.at,
    )
    const reversed = engagementAfterEvent(
      engagementAfterEvent(emptyEngagement(T0), b, b.at),
      a,
      b.at,
    )
    expect(points(engagementAt(reversed, now))).toBeCloseTo(points(engagementAt(inOrder, now)), 12)
  })

  it('leaves a state alone when asked to decay it to an earlier time', () => {
    const state = engagementAfterEvent(emptyEngagement(T0), { kind: 'page', at: T0 }, T0)
    expect(engagementAt(state, T0 - DAY)).toBe(state)
  })
})
