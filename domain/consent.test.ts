import { describe, expect, it } from 'vitest'
import {
  effectiveConsent,
  gpcDecision,
  mayMerge,
  mayStoreIdentified,
  type LedgerEntry,
} from './consent'

const entry = (at: string, purposes: LedgerEntry['purposes']): LedgerEntry => ({
  at,
  purposes,
  policyVersion: 'v1',
  source: 'test',
  method: 'banner',
})

describe('consent rules', () => {
  it('takes the latest decision per purpose, whatever order the ledger is in', () => {
    const state = effectiveConsent([
      entry('2026-01-02T00:00:00Z', { analytics: false }),
      entry('2026-01-01T00:00:00Z', { analytics: true, marketing: true }),
      entry('2026-01-03T00:00:00Z', { advertising: false }),
    ])
    expect(state).toEqual({
      analytics: false,
      marketing: true,
      personalization: null,
      advertising: false,
    })
  })

  it('stores identified events in opt-in only after a grant, in opt-out until a withdrawal', () => {
    const none = effectiveConsent([])
    const granted = effectiveConsent([entry('2026-01-01T00:00:00Z', { analytics: true })])
    const withdrawn = effectiveConsent([entry('2026-01-01T00:00:00Z', { analytics: false })])
    expect([none, granted, withdrawn].map((s) => mayStoreIdentified('opt-in', s))).toEqual([
      false,
      true,
      false,
    ])
    expect([none, granted, withdrawn].map((s) => mayStoreIdentified('opt-out', s))).toEqual([
      true,
      true,
      false,
    ])
  })

  it('records GPC as an advertising denial once', () => {
    expect(gpcDecision(effectiveConsent([]))).toEqual({ advertising: false })
    expect(
      gpcDecision(effectiveConsent([entry('2026-01-01T00:00:00Z', { advertising: true })])),
    ).toEqual({ advertising: false })
    expect(
      gpcDecision(effectiveConsent([entry('2026-01-01T00:00:00Z', { advertising: false })])),
    ).toBeNull()
  })

  it('decides a merge on the ledgers taken together: a grant under either id, the latest decision wins', () => {
    const grant = [entry('2026-01-01T00:00:00Z', { analytics: true })]
    const withdrawal = [entry('2026-01-02T00:00:00Z', { analytics: false })]
    const marketingOnly = [entry('2026-01-03T00:00:00Z', { marketing: true })]
    expect(mayMerge('opt-in', [[], []])).toBe(false)
    expect(mayMerge('opt-in', [[], grant])).toBe(true)
    expect(mayMerge('opt-in', [grant, marketingOnly])).toBe(true)
    expect(mayMerge('opt-in', [marketingOnly, []])).toBe(false)
    expect(mayMerge('opt-in', [grant, withdrawal])).toBe(false)
    expect(mayMerge('opt-out', [[], []])).toBe(true)
    expect(mayMerge('opt-out', [[], withdrawal])).toBe(false)
    expect(
      mayMerge('opt-out', [withdrawal, [entry('2026-01-05T00:00:00Z', { analytics: true })]]),
    ).toBe(true)
  })
})
