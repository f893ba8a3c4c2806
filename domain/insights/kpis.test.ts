import { describe, expect, it } from 'vitest'
import {
  bucketsOf,
  coarsest,
  grainOf,
  isDay,
  monthlyRate,
  previousPeriod,
  rate,
  ratio,
  reachableAt,
  readSpendCsv,
  resolvePeriod,
  sumOver,
  totalsByChannelDay,
} from './kpis'

describe('periods', () => {
  it('default to the 30 days up to today and refuse what is not a period', () => {
    expect(resolvePeriod({}, '2026-12-06', 731)).toEqual({
      ok: true,
      period: { from: '2026-11-07', to: '2026-12-06' },
    })
    expect(resolvePeriod({ to: '2026-03-01' }, '2026-12-06', 731)).toEqual({
      ok: true,
      period: { from: '2026-01-31', to: '2026-03-01' },
    })
    expect(resolvePeriod({ from: '2026-02-02', to: '2026-02-01' }, '2026-12-06', 731).ok).toBe(
      false,
    )
    expect(resolvePeriod({ from: '2026-02-30', to: '2026-03-01' }, '2026-12-06', 731).ok).toBe(
      false,
    )
    expect(resolvePeriod({ from: '2020-01-01', to: '2026-03-01' }, '2026-12-06', 731)).toEqual({
      ok: false,
      message: 'A period spans at most 731 days',
    })
  })

  it('have a previous period of equal length ending the day before', () => {
    expect(previousPeriod({ from: '2026-03-01', to: '2026-03-31' })).toEqual({
      from: '2026-01-29',
      to: '2026-02-28',
    })
    expect(previousPeriod({ from: '2026-03-01', to: '2026-03-01' })).toEqual({
      from: '2026-02-28',
      to: '2026-02-28',
    })
  })

  it('know real days', () => {
    expect(isDay('2024-02-29')).toBe(true)
    expect(isDay('2025-02-29')).toBe(false)
    expect(isDay('2025-1-01')).toBe(false)
  })
})

describe('trend buckets', () => {
  it('are days up to a month, weeks to half a year, months beyond', () => {
    expect(grainOf({ from: '2026-01-01', to: '2026-01-31' })).toBe('day')
    expect(grainOf({ from: '2026-01-01', to: '2026-02-01' })).toBe('week')
    expect(grainOf({ from: '2026-01-01', to: '2026-07-05' })).toBe('week')
    expect(grainOf({ from: '2026-01-01', to: '2026-07-06' })).toBe('month')
  })

  it('are never finer than a floor', () => {
    expect(coarsest('day', 'week')).toBe('week')
    expect(coarsest('month', 'week')).toBe('month')
  })

  it('start weeks on Monday and clip both ends to the period', () => {
    // 2026-11-04 is a Wednesday.
    expect(bucketsOf({ from: '2026-11-04', to: '2026-11-20' }, 'week')).toEqual([
      { from: '2026-11-04', to: '2026-11-08', next: '2026-11-09' },
      { from: '2026-11-09', to: '2026-11-15', next: '2026-11-16' },
      { from: '2026-11-16', to: '2026-11-20', next: '2026-11-21' },
    ])
  })

  it('follow calendar months', () => {
    expect(bucketsOf({ from: '2026-01-15', to: '2026-03-02' }, 'month')).toEqual([
      { from: '2026-01-15', to: '2026-01-31', next: '2026-02-01' },
      { from: '2026-02-01', to: '2026-02-28', next: '2026-03-01' },
      { from: '2026-03-01', to: '2026-03-02', next: '2026-03-03' },
    ])
    expect(bucketsOf({ from: '2026-01-30', to: '2026-02-01' }, 'day').map((b) => b.from)).toEqual([
      '2026-01-30',
      '2026-01-31',
      '2026-02-01',
    ])
  })
})

describe('rates', () => {
  it('are null without a whole, and ratios without either side or with a zero divisor', () => {
    expect(rate(1, 4)).toBe(0.25)
    expect(rate(0, 0)).toBeNull()
    expect(ratio(300, 100)).toBe(3)
    expect(ratio(null, 100)).toBeNull()
    expect(ratio(300, 0)).toBeNull()
  })

  it('turn a churn share over any number of days into a 30-day monthly rate', () => {
    expect(monthlyRate(0.1, 30)).toBeCloseTo(0.1, 12)
    // 19% over 60 days is 10% a month twice over.
    expect(monthlyRate(0.19, 60)).toBeCloseTo(0.1, 12)
    expect(monthlyRate(1, 10)).toBe(1)
    expect(monthlyRate(null, 30)).toBeNull()
  })

  it('sum daily rows over a stretch of days', () => {
    const rows = [
      { day: '2026-01-01', value: 1 },
      { day: '2026-01-02', value: 2 },
      { day: '2026-01-05', value: 4 },
    ]
    expect(sumOver(rows, { from: '2026-01-02', to: '2026-01-05' }, (r) => r.value)).toBe(6)
  })

  it('count contacts reachable at the end of a day', () => {
    const groups = [
      { seen: '2026-01-01', blocked: null, contacts: 5 },
      { seen: '2026-01-01', blocked: '2026-01-03', contacts: 2 },
      { seen: '2026-01-04', blocked: null, contacts: 1 },
    ]
    expect(reachableAt(groups, '2026-01-02')).toBe(7)
    expect(reachableAt(groups, '2026-01-03')).toBe(5)
    expect(reachableAt(groups, '2026-01-04')).toBe(6)
  })
})

describe('spend CSV', () => {
  it('reads the columns in any order, with aliases, and ignores others', () => {
    const text =
      '\uFEFFDate;Campaign;Cost;Channel;Currency\r\n2026-11-01;"Brand; EU";12.5;paid_search;eur\r\n\r\n2026-11-02;x;0;email;\r\n'
    expect(readSpendCsv(text, 10)).toEqual({
      ok: true,
      rows: [
        { line: 2, channel: 'paid_search', day: '2026-11-01', amount: '12.5', currency: 'eur' },
        { line: 4, channel: 'email', day: '2026-11-02', amount: '0' },
      ],
      issues: [],
    })
  })

  it('names a missing column, a row with the wrong number of fields, and a broken quote', () => {
    expect(readSpendCsv('chanel,day,amount\nx,2026-11-01,1', 10)).toEqual({
      ok: false,
      issues: [
        {
          line: 1,
          field: 'channel',
          message: 'missing from the header (found: "chanel", "day", "amount")',
        },
      ],
    })
    expect(readSpendCsv('channel,day,amount\nemail,2026-11-01,1,234.50', 10)).toEqual({
      ok: true,
      rows: [],
      issues: [
        {
          line: 2,
          field: '',
          message: 'expected 3 fields, found 4 (a comma inside an unquoted value?)',
        },
      ],
    })
    expect(readSpendCsv('channel,day,amount\n"email,2026-11-01,1', 10)).toEqual({
      ok: false,
      issues: [{ line: 2, field: '', message: 'a quoted field is never closed' }],
    })
  })

  it('stops at the row cap', () => {
    const text = 'channel,day,amount\n' + 'email,2026-11-01,1\n'.repeat(4)
    expect(readSpendCsv(text, 3)).toMatchObject({ ok: false, tooMany: true })
    expect(readSpendCsv(text, 4).ok).toBe(true)
  })
})

describe('spend rows of one channel and day', () => {
  it('add up, and must share a currency', () => {
    expect(
      totalsByChannelDay([
        { channel: 'email', day: '2026-11-01', amount: 0.1 },
        { channel: 'email', day: '2026-11-01', amount: 0.2 },
        { channel: 'email', day: '2026-11-02', amount: 5, currency: 'EUR' },
      ]),
    ).toEqual({
      ok: true,
      rows: [
        { channel: 'email', day: '2026-11-01', amount: 0.3, currency: null },
        { channel: 'email', day: '2026-11-02', amount: 5, currency: 'EUR' },
      ],
    })
    expect(
      totalsByChannelDay([
        { channel: 'email', day: '2026-11-01', amount: 1, currency: 'EUR' },
        { channel: 'sms', day: '2026-11-01', amount: 1, currency: 'EUR' },
        { channel: 'email', day: '2026-11-01', amount: 1, currency: 'USD' },
      ]),
    ).toEqual({ ok: false, conflicts: [{ index: 2, first: 0 }] })
  })
})
