import { describe, expect, it } from 'vitest'
import {
  available,
  CLOSED,
  FAILURES_TO_OPEN,
  grantProbe,
  recordFailure,
  recordOutcome,
  recordSuccess,
  type Circuit,
} from './circuit'

const T0 = Date.parse('2026-12-01T10:00:00.000Z')
const s = (seconds: number) => T0 + seconds * 1000

function failTimes(circuit: Circuit, times: number, at = T0): Circuit {
  for (let i = 0; i < times; i++) circuit = recordFailure(circuit, at)
  return circuit
}

describe('a circuit', () => {
  it('stays closed through four retryable failures in a row and opens on the fifth', () => {
    const four = failTimes(CLOSED, FAILURES_TO_OPEN - 1)
    expect(four).toMatchObject({ state: 'closed', failures: 4, openUntil: null })
    expect(available(four, T0)).toBe('use')

    const open = recordFailure(four, s(1))
    expect(open).toEqual({
      state: 'open',
      failures: 5,
      openUntil: s(31),
      coolDownMs: 30_000,
      probeLeaseUntil: null,
    })
  })

  it('counts failures in a row: a success in between starts the count again', () => {
    const afterSuccess = recordOutcome(failTimes(CLOSED, 4), { ok: true, retryable: false }, T0)
    expect(afterSuccess).toEqual(CLOSED)
    expect(failTimes(afterSuccess, 4)).toMatchObject({ state: 'closed', failures: 4 })
  })

  it('does not count a message the provider refused against the provider', () => {
    const refused = { ok: false, retryable: false }
    let circuit = failTimes(CLOSED, 4)
    circuit = recordOutcome(circuit, refused, T0)
    expect(circuit).toEqual(CLOSED)
    for (let i = 0; i < 10; i++) circuit = recordOutcome(circuit, refused, T0)
    expect(available(circuit, T0)).toBe('use')
  })

  it('is skipped while open, until the cool-down has passed', () => {
    const open = failTimes(CLOSED, 5)
    expect(available(open, T0)).toBe('skip')
    expect(available(open, s(29.999))).toBe('skip')
    expect(available(open, s(30))).toBe('probe')
  })

  it('grants one probe: everyone else skips while its lease runs', () => {
    const open = failTimes(CLOSED, 5)
    expect(() => grantProbe(open, s(10))).toThrow('No probe is due')
    const probing = grantProbe(open, s(30))
    expect(probing).toMatchObject({ state: 'half_open', probeLeaseUntil: s(60) })
    expect(available(probing, s(30))).toBe('skip')
    expect(available(probing, s(59.999))).toBe('skip')
    expect(() => grantProbe(probing, s(31))).toThrow('No probe is due')
  })

  it('hands the probe to another caller when the first never reports (its lease ran out)', () => {
    const probing = grantProbe(failTimes(CLOSED, 5), s(30))
    expect(available(probing, s(60))).toBe('probe')
    expect(grantProbe(probing, s(60))).toMatchObject({
      state: 'half_open',
      probeLeaseUntil: s(90),
    })
  })

  it('closes and forgets everything when the probe succeeds', () => {
    const probing = grantProbe(failTimes(CLOSED, 5), s(30))
    const closed = recordOutcome(probing, { ok: true, retryable: false }, s(32))
    expect(closed).toEqual(CLOSED)
    expect(available(closed, s(32))).toBe('use')
  })

  it('opens again for twice as long after each failed probe, up to ten minutes', () => {
    let circuit = failTimes(CLOSED, 5)
    let now = T0
    const coolDowns: number[] = []
    for (let probe = 0; probe < 7; probe++) {
      now = circuit.openUntil!
      circuit = recordFailure(grantProbe(circuit, now), now + 1000)
      expect(circuit.state).toBe('open')
      expect(circuit.probeLeaseUntil).toBeNull()
      expect(circuit.openUntil).toBe(now + 1000 + circuit.coolDownMs)
      coolDowns.push(circuit.coolDownMs / 1000)
    }
    expect(coolDowns).toEqual([60, 120, 240, 480, 600, 600, 600])
    // A success after all that starts from 30 s again.
    const closed = recordSuccess()
    expect(failTimes(closed, 5, now).openUntil).toBe(now + 30_000)
  })

  it('keeps its cool-down when a failure decided before it opened is reported late', () => {
    const open = failTimes(CLOSED, 5)
    const late = recordFailure(open, s(20))
    expect(late).toMatchObject({ state: 'open', failures: 6, openUntil: s(30) })
  })
})
