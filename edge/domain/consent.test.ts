import { describe, expect, it } from 'vitest'
import { effectiveConsent, gpcDecision, mayStoreIdentified, type LedgerEntry } from './consent'

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
})
