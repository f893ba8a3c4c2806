import { describe, expect, it } from 'vitest'
import { minimize } from './optimize'

/** Rosenbrock's banana in n dimensions, minimum 0 at (1, …, 1), with its gradient. */
function rosenbrock(x: readonly number[]) {
  let value = 0
  const gradient = x.map(() => 0)
  for (let i = 0; i < x.length - 1; i++) {
    const a = x[i + 1]! - x[i]! ** 2
    const b = 1 - x[i]!
    value += 100 * a * a + b * b
    gradient[i]! += -400 * x[i]! * a - 2 * b
    gradient[i + 1]! += 200 * a
  }
  return { value, gradient }
}

describe('minimize (BFGS)', () => {
  it("finds Rosenbrock's minimum from the classic start (−1.2, 1)", () => {
    const found = minimize(rosenbrock, [-1.2, 1])
    expect(found.converged).toBe(true)
    expect(found.x[0]).toBeCloseTo(1, 6)
    expect(found.x[1]).toBeCloseTo(1, 6)
    expect(found.value).toBeLessThan(1e-12)
    expect(found.iterations).toBeLessThan(100)
  })

  it('finds it in four dimensions, as many as the BG/NBD has', () => {
    const found = minimize(rosenbrock, [-1, 2, -0.5, 1.5])
    expect(found.converged).toBe(true)
    for (const v of found.x) expect(v).toBeCloseTo(1, 5)
  })

  it('steps back from where the objective is not defined', () => {
    // −log x + x has its minimum at 1 and is NaN for x ≤ 0: the first full step from 5 lands there.
    const f = ([x]: readonly number[]) => ({ value: -Math.log(x!) + x!, gradient: [-1 / x! + 1] })
    const found = minimize(f, [5])
    expect(found.converged).toBe(true)
    expect(found.x[0]).toBeCloseTo(1, 7)
  })

  it('says when it stopped before converging', () => {
    const found = minimize(rosenbrock, [-1.2, 1], { maxIterations: 3 })
    expect(found.converged).toBe(false)
    expect(found.iterations).toBe(3)
    expect(found.value).toBeLessThan(rosenbrock([-1.2, 1]).value)
  })

  it('refuses a start where the objective is not finite', () => {
    const f = () => ({ value: NaN, gradient: [0] })
    expect(() => minimize(f, [0])).toThrow(RangeError)
  })
})
