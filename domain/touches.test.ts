import { describe, expect, it } from 'vitest'
import { matchConversion, type ConversionDefinition } from './conversions'
import { SESSION_GAP_MS, touchOf } from './touches'

const T0 = Date.parse('2026-11-01T10:00:00Z')

describe('touches', () => {
  it('records the entry of each session and campaign changes, not every page', () => {
    const email = { source: 'newsletter', medium: 'email', name: 'weekly' }
    const first = touchOf({ at: T0, channel: 'email', landing: true, campaign: email }, null)
    expect(first).toEqual({
      at: T0,
      channel: 'email',
      campaign: 'weekly',
      source: 'newsletter',
      medium: 'email',
    })
    const last = { at: T0, campaignKey: 'newsletter/email/weekly' }
    // Internal navigation a minute later is the same visit.
    expect(touchOf({ at: T0 + 60_000, channel: 'direct', landing: false }, last)).toBeNull()
    // Coming back from the same campaign link within the session is not a new touch.
    expect(
      touchOf({ at: T0 + 60_000, channel: 'email', landing: true, campaign: email }, last),
    ).toBeNull()
    // A new campaign mid-session is.
    const ad = { source: 'google', medium: 'cpc', name: 'brand' }
    expect(
      touchOf({ at: T0 + 120_000, channel: 'paid_search', landing: true, campaign: ad }, last)
        ?.channel,
    ).toBe('paid_search')
    // After 30 minutes of silence, even internal navigation starts a new (direct) visit.
    expect(
      touchOf({ at: T0 + SESSION_GAP_MS + 1, channel: 'referral', landing: false }, last)?.channel,
    ).toBe('direct')
    // A new tracker session id starts a visit at once.
    expect(
      touchOf(
        { at: T0 + 1_000, channel: 'organic_search', landing: true, sessionId: 'b' },
        { ...last, sessionId: 'a' },
      )?.channel,
    ).toBe('organic_search')
    // Server-side events without a page are never touches.
    expect(touchOf({ at: T0, landing: true }, null)).toBeNull()
  })
})

describe('conversion definitions', () => {
  const definitions: ConversionDefinition[] = [
    { id: 'c1', name: 'Purchase', eventName: 'Order Completed', filter: {}, valueProperty: null },
    {
      id: 'c2',
      name: 'Pro signup',
      eventName: 'Signed Up',
      filter: { plan: 'pro' },
      valueProperty: 'mrr',
    },
  ]

  it('matches by event name and property filter, valued from revenue, value or the named property', () => {
    expect(
      matchConversion(
        { type: 'track', event: 'Order Completed', properties: { revenue: 42 } },
        definitions,
      ),
    ).toMatchObject({ definition: { id: 'c1' }, value: 42 })
    expect(
      matchConversion(
        { type: 'track', event: 'Order Completed', properties: { value: '19.5' } },
        definitions,
      )?.value,
    ).toBe(19.5)
    expect(matchConversion({ type: 'track', event: 'Order Completed' }, definitions)?.value).toBe(0)
    expect(
      matchConversion(
        { type: 'track', event: 'Signed Up', properties: { plan: 'free', mrr: 0 } },
        definitions,
      ),
    ).toBeNull()
    expect(
      matchConversion(
        { type: 'track', event: 'Signed Up', properties: { plan: 'pro', mrr: 49 } },
        definitions,
      ),
    ).toMatchObject({ definition: { id: 'c2' }, value: 49 })
    expect(matchConversion({ type: 'page', event: 'Order Completed' }, definitions)).toBeNull()
  })
})
