import { describe, expect, it } from 'vitest'
import { nextLocalTime } from './local-time'

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()

describe('nextLocalTime in UTC', () => {
  it('is later the same day when the time has not come yet', () => {
    expect(iso(nextLocalTime(at('2026-06-01T08:00:00Z'), '09:00', undefined, 'UTC'))).toBe(
      '2026-06-01T09:00:00.000Z',
    )
  })

  it('is the next day when the time has passed today', () => {
    expect(iso(nextLocalTime(at('2026-06-01T09:00:01Z'), '09:00', undefined, 'UTC'))).toBe(
      '2026-06-02T09:00:00.000Z',
    )
  })

  it('is now when the clock shows exactly that time', () => {
    const now = at('2026-06-01T09:00:00Z')
    expect(nextLocalTime(now, '09:00', undefined, 'UTC')).toBe(now)
  })

  it('reads minutes as well as hours', () => {
    expect(iso(nextLocalTime(at('2026-06-01T08:00:00Z'), '17:45', [], 'UTC'))).toBe(
      '2026-06-01T17:45:00.000Z',
    )
  })
})

describe('nextLocalTime in Europe/Paris across daylight saving (2026)', () => {
  it('is 09:00 CET (08:00 UTC) the day before clocks go forward', () => {
    expect(iso(nextLocalTime(at('2026-03-27T12:00:00Z'), '09:00', undefined, 'Europe/Paris'))).toBe(
      '2026-03-28T08:00:00.000Z',
    )
  })

  it('stays at 09:00 on the wall clock (07:00 UTC) on the Sunday clocks go forward', () => {
    expect(iso(nextLocalTime(at('2026-03-28T12:00:00Z'), '09:00', undefined, 'Europe/Paris'))).toBe(
      '2026-03-29T07:00:00.000Z',
    )
  })

  it('takes a time the clocks skip (02:30 on 29 March) an hour later, at 03:30 CEST', () => {
    expect(iso(nextLocalTime(at('2026-03-28T23:30:00Z'), '02:30', undefined, 'Europe/Paris'))).toBe(
      '2026-03-29T01:30:00.000Z',
    )
  })

  it('stays at 09:00 on the wall clock (08:00 UTC) on the Sunday clocks go back', () => {
    expect(iso(nextLocalTime(at('2026-10-24T12:00:00Z'), '09:00', undefined, 'Europe/Paris'))).toBe(
      '2026-10-25T08:00:00.000Z',
    )
  })

  it('is 09:00 CEST (07:00 UTC) the day before clocks go back', () => {
    expect(iso(nextLocalTime(at('2026-10-23T12:00:00Z'), '09:00', undefined, 'Europe/Paris'))).toBe(
      '2026-10-24T07:00:00.000Z',
    )
  })
})

describe('nextLocalTime in America/New_York', () => {
  it('is 09:00 EDT (13:00 UTC) in summer', () => {
    expect(
      iso(nextLocalTime(at('2026-06-01T12:00:00Z'), '09:00', undefined, 'America/New_York')),
    ).toBe('2026-06-01T13:00:00.000Z')
  })

  it('is 09:00 EST (14:00 UTC) in winter', () => {
    expect(
      iso(nextLocalTime(at('2026-01-15T15:00:00Z'), '09:00', undefined, 'America/New_York')),
    ).toBe('2026-01-16T14:00:00.000Z')
  })

  it('follows the change to EDT on 8 March 2026', () => {
    expect(
      iso(nextLocalTime(at('2026-03-07T15:00:00Z'), '09:00', undefined, 'America/New_York')),
    ).toBe('2026-03-08T13:00:00.000Z')
  })

  it('counts the local day: 23:00 UTC is still the afternoon before in New York', () => {
    expect(
      iso(nextLocalTime(at('2026-06-01T23:00:00Z'), '20:00', undefined, 'America/New_York')),
    ).toBe('2026-06-02T00:00:00.000Z')
  })
})

describe('nextLocalTime with days', () => {
  // 2026-06-03 is a Wednesday.
  it('skips to the next named weekday', () => {
    expect(iso(nextLocalTime(at('2026-06-03T08:00:00Z'), '09:00', ['mon'], 'UTC'))).toBe(
      '2026-06-08T09:00:00.000Z',
    )
  })

  it('takes today when today is named and the time is still to come', () => {
    expect(iso(nextLocalTime(at('2026-06-03T08:00:00Z'), '09:00', ['mon', 'wed'], 'UTC'))).toBe(
      '2026-06-03T09:00:00.000Z',
    )
  })

  it('waits a whole week when the only day named is today and its time has passed', () => {
    expect(iso(nextLocalTime(at('2026-06-03T10:00:00Z'), '09:00', ['wed'], 'UTC'))).toBe(
      '2026-06-10T09:00:00.000Z',
    )
  })

  it('names weekdays as the contact’s calendar does, not UTC’s', () => {
    // 20:00 UTC on Monday 1 June is 08:00 on Tuesday 2 June in Auckland (NZST, +12).
    expect(
      iso(nextLocalTime(at('2026-06-01T20:00:00Z'), '09:00', ['tue'], 'Pacific/Auckland')),
    ).toBe('2026-06-01T21:00:00.000Z')
  })

  it('treats an empty day list as every day', () => {
    expect(iso(nextLocalTime(at('2026-06-03T10:00:00Z'), '09:00', [], 'UTC'))).toBe(
      '2026-06-04T09:00:00.000Z',
    )
  })
})
