import { describe, expect, it } from 'vitest'
import { decideWinner, erfc, twoProportionTest } from './experiment'

describe('erfc', () => {
  it('agrees with tabulated values to about 1e-7, relative', () => {
    const table: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047265],
      [3, 2.2090496998585438e-5],
      [4, 1.541725790028002e-8],
      [-1, 1.842700792949715],
    ]
    for (const [x, expected] of table) {
      expect(Math.abs(erfc(x) - expected) / expected).toBeLessThan(1.3e-7)
    }
  })
})

describe('twoProportionTest', () => {
  it('matches a hand computation', () => {
    // 150 of 1000 against 100 of 1000: pooled rate 250 / 2000 = 0.125; standard error
    // sqrt(0.125 × 0.875 × (1/1000 + 1/1000)) = sqrt(0.00021875) = 0.0147902;
    // z = (0.15 − 0.10) / 0.0147902 = 3.38062; p = erfc(3.38062 / √2) = 0.000723233.
    const { z, pValue } = twoProportionTest(
      { name: 'A', entered: 1000, converted: 150 },
      { name: 'B', entered: 1000, converted: 100 },
    )
    expect(z).toBeCloseTo(3.38062, 5)
    expect(pValue).toBeCloseTo(0.000723233, 8)
  })
})

describe('decideWinner', () => {
  it('declares the path whose goal rate is significantly the best', () => {
    const decision = decideWinner(
      [
        { name: 'short', entered: 1000, converted: 100 },
        { name: 'long', entered: 1000, converted: 150 },
      ],
      500,
    )
    expect(decision.winner).toBe('long')
    expect(decision.pValue).toBeCloseTo(0.000723233, 8)
    expect(decision.reason).toBe(
      'long converts best: long 15.0% against short 10.0%, p = 0.00072 < 0.010',
    )
    expect(decision.test).toMatch(/two-proportion z-test/)
  })

  it('decides nothing until every path has minPerPath runs, however clear the gap', () => {
    const decision = decideWinner(
      [
        { name: 'A', entered: 1000, converted: 400 },
        { name: 'B', entered: 99, converted: 5 },
      ],
      100,
    )
    expect(decision).toMatchObject({
      winner: null,
      pValue: null,
      reason: 'waiting for 100 runs on every path (B 99)',
    })
  })

  it('decides nothing while the difference is not significant at alpha 0.01', () => {
    // 60 of 500 against 40 of 500: z = 2.108, p = 0.035, which a lone test at 0.05 would call.
    const decision = decideWinner(
      [
        { name: 'A', entered: 500, converted: 60 },
        { name: 'B', entered: 500, converted: 40 },
      ],
      100,
    )
    expect(decision.winner).toBeNull()
    expect(decision.pValue).toBeCloseTo(0.035015, 5)
    expect(decision.reason).toBe(
      'no significant difference yet: A 12.0% against B 8.0%, p = 0.035 ≥ 0.010',
    )
  })

  it('with three paths, tests the best against each at alpha / 2', () => {
    // A 15% against B 11%: p = 0.0078 (below 0.01 alone, above 0.005 corrected);
    // A against C 10%: p = 0.00072.
    const paths = [
      { name: 'A', entered: 1000, converted: 150 },
      { name: 'B', entered: 1000, converted: 110 },
      { name: 'C', entered: 1000, converted: 100 },
    ]
    const undecided = decideWinner(paths, 100)
    expect(undecided.winner).toBeNull()
    expect(undecided.pValue).toBeCloseTo(0.0078237, 6)
    expect(undecided.reason).toContain('A 15.0% against B 11.0%, p = 0.0078 ≥ 0.0050')

    const withoutC = decideWinner(paths.slice(0, 2), 100)
    expect(withoutC.winner).toBe('A')

    const clearer = decideWinner([paths[0]!, { ...paths[1]!, converted: 100 }, paths[2]!], 100)
    expect(clearer.winner).toBe('A')
    expect(clearer.reason).toContain('p = 0.00072 < 0.0050')
  })

  it('decides nothing when a path expects fewer than 5 conversions', () => {
    // Pooled rate 3 / 400 = 0.0075: 200 runs expect 1.5 conversions per path.
    const decision = decideWinner(
      [
        { name: 'A', entered: 200, converted: 3 },
        { name: 'B', entered: 200, converted: 0 },
      ],
      100,
    )
    expect(decision.winner).toBeNull()
    expect(decision.pValue).toBeNull()
    expect(decision.reason).toMatch(/^too few conversions or non-conversions expected on A/)
  })

  it('decides nothing when almost every run converts', () => {
    const decision = decideWinner(
      [
        { name: 'A', entered: 300, converted: 299 },
        { name: 'B', entered: 300, converted: 297 },
      ],
      100,
    )
    expect(decision.winner).toBeNull()
    expect(decision.reason).toMatch(/normal approximation/)
  })

  it('decides nothing for paths that convert alike', () => {
    const decision = decideWinner(
      [
        { name: 'A', entered: 400, converted: 40 },
        { name: 'B', entered: 400, converted: 40 },
      ],
      100,
    )
    expect(decision.winner).toBeNull()
    expect(decision.pValue).toBeCloseTo(1, 6)
  })

  it('needs runs on a path even when minPerPath is 0', () => {
    const decision = decideWinner(
      [
        { name: 'A', entered: 100, converted: 40 },
        { name: 'B', entered: 0, converted: 0 },
      ],
      0,
    )
    expect(decision).toMatchObject({ winner: null, pValue: null })
  })
})
