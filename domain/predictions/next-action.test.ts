import { describe, expect, it } from 'vitest'
import {
  dailySeed,
  learnedRates,
  nextBestAction,
  outcomeKey,
  type CandidateAction,
} from './next-action'

const action = (id: string, extra: Partial<CandidateAction> = {}): CandidateAction => ({
  id,
  name: id,
  goalEvent: 'Order Completed',
  windowDays: 7,
  ...extra,
})

const noon = new Date('2026-12-06T12:00:00Z')
const contacts = Array.from({ length: 200 }, (_, i) => ({ key: `user-${i}`, segments: [] }))

describe('nextBestAction', () => {
  it('chooses the action whose outcomes were good for nearly every contact', () => {
    const actions = [action('discount'), action('reminder'), action('survey')]
    const outcomes = new Map([
      [outcomeKey(actions[0]!), { successes: 5, failures: 45 }],
      [outcomeKey(actions[1]!), { successes: 30, failures: 20 }],
      [outcomeKey(actions[2]!), { successes: 4, failures: 46 }],
    ])
    const chosen = contacts.map((c) => nextBestAction(actions, c, outcomes, noon))
    expect(chosen.filter((id) => id === 'reminder').length).toBeGreaterThan(195)
  })

  it('explores while nothing is known, and a prior rate leans towards its action', () => {
    const uniform = [action('a'), action('b')]
    const even = contacts.map((c) => nextBestAction(uniform, c, new Map(), noon))
    const a = even.filter((id) => id === 'a').length
    expect(a).toBeGreaterThan(70)
    expect(a).toBeLessThan(130)

    const leaning = [action('a', { priorRate: 0.9 }), action('b', { priorRate: 0.1 })]
    const led = contacts.map((c) => nextBestAction(leaning, c, new Map(), noon))
    expect(led.filter((id) => id === 'a').length).toBeGreaterThan(180)
  })

  it('offers a segment’s action only to its members, and nothing when nothing applies', () => {
    const actions = [action('vip-gift', { segment: 'seg_vip', priorRate: 1 }), action('plain')]
    const outcomes = new Map([
      [outcomeKey(actions[0]!), { successes: 50, failures: 0 }],
      [outcomeKey(actions[1]!), { successes: 5, failures: 45 }],
    ])
    for (const c of contacts.slice(0, 50)) {
      expect(nextBestAction(actions, c, outcomes, noon)).toBe('plain')
      expect(nextBestAction(actions, { ...c, segments: ['seg_vip'] }, outcomes, noon)).toBe(
        'vip-gift',
      )
    }
    expect(nextBestAction([actions[0]!], contacts[0]!, outcomes, noon)).toBeNull()
    expect(nextBestAction([], contacts[0]!, outcomes, noon)).toBeNull()
  })

  it('counts an action’s outcomes per its segment', () => {
    expect(outcomeKey(action('x'))).toBe('all/x')
    expect(outcomeKey(action('x', { segment: 'seg_1' }))).toBe('seg_1/x')
  })

  it('answers the same action all day for a contact, and draws again the next day', () => {
    const actions = [action('a'), action('b'), action('c')]
    const evening = new Date('2026-12-06T23:59:00Z')
    const tomorrow = new Date('2026-12-07T00:01:00Z')
    for (const c of contacts) {
      expect(nextBestAction(actions, c, new Map(), evening)).toBe(
        nextBestAction(actions, c, new Map(), noon),
      )
    }
    expect(dailySeed('user-1', noon)).toBe(dailySeed('user-1', evening))
    expect(dailySeed('user-1', noon)).not.toBe(dailySeed('user-1', tomorrow))
    expect(dailySeed('user-1', noon)).not.toBe(dailySeed('user-2', noon))
    const changed = contacts.filter(
      (c) =>
        nextBestAction(actions, c, new Map(), noon) !==
        nextBestAction(actions, c, new Map(), tomorrow),
    )
    expect(changed.length).toBeGreaterThan(50)
  })
})

describe('learnedRates', () => {
  it('is each action’s outcomes with the goal rate its prior and outcomes point to', () => {
    const actions = [
      action('fresh'),
      action('hoped', { priorRate: 0.5 }),
      action('tried', { segment: 'seg_vip' }),
    ]
    const outcomes = new Map([['seg_vip/tried', { successes: 8, failures: 0 }]])
    expect(learnedRates(actions, outcomes)).toEqual([
      // Nothing known: the uniform prior's 1/2.
      { action: 'fresh', segment: 'all', successes: 0, failures: 0, rate: 0.5 },
      // A rule's 50% is Beta(6, 6): still 1/2 with no outcomes.
      { action: 'hoped', segment: 'all', successes: 0, failures: 0, rate: 0.5 },
      // Eight successes of eight over the uniform prior: (1 + 8) / (2 + 8).
      { action: 'tried', segment: 'seg_vip', successes: 8, failures: 0, rate: 0.9 },
    ])
  })
})
