import { describe, expect, it } from 'vitest'
import type { WinBackResult } from '../domain/predictions/simulate.ts'
import { breakEvenResponse, CHURN_SCENARIO, churnRow } from './predictions-churn.ts'
import { eventTuples, purchasesOf, type SeedCustomer } from './predictions-seed.ts'
import { seeded } from './workload.ts'

const DAY = 86_400_000

describe('purchasesOf', () => {
  it('gives a one-time buyer their first purchase alone', () => {
    expect(purchasesOf({ x: 0, tx: 0, T: 200, m: 0 }, 35, seeded(1))).toEqual([
      { at: 0, value: 35 },
    ])
  })

  it('puts the first purchase at 0, the last at tx, the rest between, repeats worth m on average', () => {
    const customer = { x: 6, tx: 120.5, T: 300, m: 42.5 }
    const purchases = purchasesOf(customer, 10, seeded(2))
    expect(purchases).toHaveLength(7)
    expect(purchases[0]).toEqual({ at: 0, value: 10 })
    expect(purchases.at(-1)!.at).toBe(120.5)
    const times = purchases.map((p) => p.at)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(times.every((t) => t >= 0 && t <= customer.tx)).toBe(true)
    const repeats = purchases.slice(1)
    expect(repeats.reduce((sum, p) => sum + p.value, 0) / repeats.length).toBeCloseTo(42.5, 12)
  })
})

describe('eventTuples', () => {
  const customers: SeedCustomer[] = Array.from({ length: 10 }, (_, i) => ({
    x: i % 4,
    tx: i % 4 === 0 ? 0 : 10 + i,
    T: 100 + i,
    m: i % 4 === 0 ? 0 : 20 + i,
  }))
  const now = Date.UTC(2026, 11, 6)

  it('dates each customer’s purchases from T days before now', () => {
    const tuples = eventTuples(customers, 0, 10, now, 35, 1)
    expect(tuples).toHaveLength(customers.reduce((sum, c) => sum + c.x + 1, 0))
    for (const [i, customer] of customers.entries()) {
      const own = tuples.filter((t) => t[0] === i)
      expect(own.map((t) => t[1])).toEqual(own.map((_, j) => j))
      expect(own[0]![2]).toBe(Math.round(now - customer.T * DAY))
      expect(own.at(-1)![2]).toBe(Math.round(now - (customer.T - customer.tx) * DAY))
    }
  })

  it('gives the same events whatever range a customer is seeded in', () => {
    const whole = eventTuples(customers, 0, 10, now, 35, 1)
    const parts = [
      ...eventTuples(customers, 0, 4, now, 35, 1),
      ...eventTuples(customers, 4, 10, now, 35, 1),
    ]
    expect(parts).toEqual(whole)
    expect(eventTuples(customers, 0, 10, now, 35, 2)).not.toEqual(whole)
  })
})

describe('breakEvenResponse', () => {
  it('finds the smallest response rate reaching the goal, to the bisection’s precision', () => {
    const found = breakEvenResponse((rate) => 0.6 * rate, 0.15, 10)
    expect(found.atFullResponse).toBe(0.6)
    expect(found.responseRate).toBeGreaterThanOrEqual(0.25)
    expect(found.responseRate! - 0.25).toBeLessThan(1 / 1024)
  })

  it('says none does when even a full response falls short', () => {
    expect(breakEvenResponse((rate) => 0.1 * rate, 0.15, 10)).toEqual({
      responseRate: null,
      atFullResponse: 0.1,
    })
  })
})

describe('churnRow', () => {
  const arm = (churned: number) => ({
    atRisk: 800,
    churned,
    churnRate: churned / 800,
    purchases: 0,
    revenue: 0,
  })
  const result = {
    customers: 1_000,
    messaged: 900,
    wouldHaveChurned: 30,
    control: arm(50),
    treatment: arm(44),
    relativeReduction: 0.12,
  } as WinBackResult

  it('measures the targeting against messaging at random', () => {
    const row = churnRow(result, 0.7, 0.1)
    expect(row.churnersReached).toBe(0.6)
    // 60% of the churners reached while messaging 90%: worse than random.
    expect(row.lift).toBeCloseTo(0.6 / 0.9, 12)
    expect(row.quoted).toBe(false)
  })

  it('marks the quoted row', () => {
    const { threshold, responseRate } = CHURN_SCENARIO.quoted
    expect(churnRow(result, threshold, responseRate).quoted).toBe(true)
    // The same numbers on the other score are another campaign.
    expect(churnRow(result, threshold, responseRate, 'lapseRisk').quoted).toBe(false)
  })
})
