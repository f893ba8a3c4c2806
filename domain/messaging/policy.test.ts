import { describe, expect, it } from 'vitest'
import {
  capReached,
  knownTimeZone,
  quietUntil,
  reachable,
  statusAfter,
  type Reachability,
} from './policy'

const marketing: Reachability = {
  kind: 'marketing',
  marketingConsent: true,
  groupChoice: null,
  groupDefault: true,
  allMarketingChoice: null,
  addressSuppressed: false,
  hasAddress: true,
}

describe('reachable', () => {
  it('lets marketing go with consent given, the group open and a clean address', () => {
    expect(reachable(marketing)).toEqual({ ok: true })
  })

  it('never assumes marketing consent: no decision is no_consent, as is a withdrawal', () => {
    expect(reachable({ ...marketing, marketingConsent: null })).toMatchObject({
      status: 'no_consent',
    })
    expect(reachable({ ...marketing, marketingConsent: false })).toMatchObject({
      status: 'no_consent',
    })
  })

  it('stops marketing for an opt-in group the contact never joined, and after leaving one', () => {
    expect(reachable({ ...marketing, groupDefault: false })).toMatchObject({ status: 'suppressed' })
    expect(reachable({ ...marketing, groupChoice: false })).toMatchObject({ status: 'suppressed' })
    expect(reachable({ ...marketing, groupDefault: false, groupChoice: true })).toEqual({
      ok: true,
    })
  })

  it('stops every marketing group once the contact left all marketing', () => {
    expect(reachable({ ...marketing, groupChoice: true, allMarketingChoice: false })).toMatchObject(
      { status: 'suppressed', reason: 'unsubscribed from all marketing' },
    )
  })

  it('stops marketing to an address that bounced hard or complained', () => {
    expect(reachable({ ...marketing, addressSuppressed: true })).toMatchObject({
      status: 'suppressed',
    })
  })

  it('sends transactional mail without marketing consent, to a bounced address, after leaving all marketing', () => {
    const receipt: Reachability = {
      ...marketing,
      kind: 'transactional',
      marketingConsent: false,
      allMarketingChoice: false,
      addressSuppressed: true,
    }
    expect(reachable(receipt)).toEqual({ ok: true })
  })

  it('stops transactional mail only for an explicit unsubscribe from its own group', () => {
    expect(reachable({ ...marketing, kind: 'transactional', groupChoice: false })).toMatchObject({
      status: 'suppressed',
    })
  })

  it('suppresses a contact with no address, whatever the kind', () => {
    expect(reachable({ ...marketing, hasAddress: false })).toMatchObject({
      reason: 'no email address',
    })
    expect(reachable({ ...marketing, kind: 'transactional', hasAddress: false })).toMatchObject({
      status: 'suppressed',
    })
  })
})

describe('capReached', () => {
  const hour = 3_600_000
  it('counts only the messages inside the window', () => {
    const now = 10 * hour
    const cap = { count: 2, perMs: 5 * hour }
    expect(capReached([now - 6 * hour, now - 4 * hour], cap, now)).toBe(false)
    expect(capReached([now - 4 * hour, now - 1], cap, now)).toBe(true)
    // A message exactly one window ago has left it.
    expect(capReached([now - 5 * hour, now - 1], cap, now)).toBe(false)
  })
})

describe('quietUntil', () => {
  const quiet = { start: '21:00', end: '08:00' }
  it('waits until the end of quiet hours in the contact’s own time zone', () => {
    // 22:30 in Paris (UTC+1 in December) is 21:30 UTC; the quiet hours end at 08:00 Paris time.
    const now = Date.parse('2026-12-06T21:30:00Z')
    expect(quietUntil(now, quiet, 'Europe/Paris')).toBe(Date.parse('2026-12-07T07:00:00Z'))
    // The same instant is 16:30 in New York: not quiet there.
    expect(quietUntil(now, quiet, 'America/New_York')).toBeNull()
  })

  it('handles a window inside one day and its edges to the minute', () => {
    const lunch = { start: '12:00', end: '13:30' }
    expect(quietUntil(Date.parse('2026-12-06T11:59:59Z'), lunch, 'UTC')).toBeNull()
    expect(quietUntil(Date.parse('2026-12-06T12:00:00Z'), lunch, 'UTC')).toBe(
      Date.parse('2026-12-06T13:30:00Z'),
    )
    expect(quietUntil(Date.parse('2026-12-06T13:29:30Z'), lunch, 'UTC')).toBe(
      Date.parse('2026-12-06T13:30:00Z'),
    )
    expect(quietUntil(Date.parse('2026-12-06T13:30:00Z'), lunch, 'UTC')).toBeNull()
  })

  it('knows only real time zones', () => {
    expect(knownTimeZone('Asia/Tokyo')).toBe('Asia/Tokyo')
    expect(knownTimeZone('Mars/Olympus')).toBeNull()
    expect(knownTimeZone(undefined)).toBeNull()
  })
})

describe('statusAfter', () => {
  it('moves a message forward only', () => {
    expect(statusAfter('sent', 'delivered')).toBe('delivered')
    expect(statusAfter('delivered', 'clicked')).toBe('clicked')
    expect(statusAfter('clicked', 'opened')).toBeNull()
    expect(statusAfter('opened', 'delivered')).toBeNull()
  })

  it('keeps bounced and complained final, and an unsubscribe changes no status', () => {
    expect(statusAfter('bounced', 'delivered')).toBeNull()
    expect(statusAfter('complained', 'clicked')).toBeNull()
    expect(statusAfter('delivered', 'complained')).toBe('complained')
    expect(statusAfter('delivered', 'unsubscribed')).toBeNull()
  })
})
