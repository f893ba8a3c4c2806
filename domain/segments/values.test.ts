import { describe, expect, it } from 'vitest'
import { compare, compareCodePoints, parseDate, valueAt } from './values'

describe('compareCodePoints', () => {
  // The SQL side orders strings by their UTF-8 bytes; the two orders must be the same.
  const utf8Order = (a: string, b: string) => {
    const x = new TextEncoder().encode(a)
    const y = new TextEncoder().encode(b)
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      if (x[i] !== y[i]) return Math.sign(x[i]! - y[i]!)
    }
    return Math.sign(x.length - y.length)
  }
  const samples = [
    '',
    'a',
    'ab',
    'b',
    'B',
    'é',
    '\u07ff',
    '\u0800',
    '\ud7ff',
    '\ue000',
    '\uff61',
    '\uffff',
    '\u{10000}',
    '\u{1f600}',
    '\u{1f600}a',
    '\u{10ffff}',
    'a\u{1f600}',
    'a\uff61',
  ]

  it('orders every pair of samples as their UTF-8 bytes do', () => {
    for (const a of samples) {
      for (const b of samples) {
        expect(Math.sign(compareCodePoints(a, b)), `${a} vs ${b}`).toBe(utf8Order(a, b))
      }
    }
  })

  it('puts an emoji (U+1F600) after U+FF61, where JS < puts it before', () => {
    expect('\u{1f600}' < '\uff61').toBe(true)
    expect(compareCodePoints('\u{1f600}', '\uff61')).toBeGreaterThan(0)
    expect(compare('\u{1f600}', { op: 'gt', value: '\uff61' })).toBe(true)
    expect(compare('a\u{1f600}', { op: 'lt', value: 'a\uff61' })).toBe(false)
  })
})

describe('compare', () => {
  it('sees null as absent for exists, and false, 0, "" and arrays as present', () => {
    expect(compare(null, { op: 'exists' })).toBe(false)
    expect(compare(undefined, { op: 'exists' })).toBe(false)
    expect(compare(null, { op: 'not_exists' })).toBe(true)
    for (const present of [false, 0, '', [], {}]) {
      expect(compare(present, { op: 'exists' }), JSON.stringify(present)).toBe(true)
      expect(compare(present, { op: 'not_exists' }), JSON.stringify(present)).toBe(false)
    }
  })

  it('never makes arrays or objects equal, so they match neq', () => {
    expect(compare(['a'], { op: 'eq', value: ['a'] })).toBe(false)
    expect(compare(['a'], { op: 'neq', value: ['a'] })).toBe(true)
    expect(compare({}, { op: 'eq', value: 'a' })).toBe(false)
    expect(compare(['a'], { op: 'in', value: ['a'] })).toBe(false)
    // Not even the very same array.
    const tags = ['a']
    expect(compare(tags, { op: 'eq', value: tags })).toBe(false)
  })

  it('matches nothing with eq when the value is left out, not every missing trait', () => {
    expect(compare(undefined, { op: 'eq' })).toBe(false)
    expect(compare(undefined, { op: 'neq' })).toBe(true)
  })

  it('never orders arrays, objects or values of different kinds', () => {
    expect(compare([2], { op: 'gt', value: 1 })).toBe(false)
    expect(compare({ a: 2 }, { op: 'gte', value: 1 })).toBe(false)
    expect(compare('2', { op: 'gt', value: 1 })).toBe(false)
    expect(compare(2, { op: 'lt', value: '3' })).toBe(false)
  })

  it('finds the empty string in every string, and nothing in a number', () => {
    expect(compare('abc', { op: 'contains', value: '' })).toBe(true)
    expect(compare(123, { op: 'contains', value: '2' })).toBe(false)
  })
})

describe('valueAt', () => {
  const traits = {
    plan: 'pro',
    address: { city: 'Lyon', geo: { lat: 45.7 } },
    items: [{ sku: 'a' }],
    nothing: null,
  }

  it('walks dotted paths through objects', () => {
    expect(valueAt(traits, 'plan')).toBe('pro')
    expect(valueAt(traits, 'address.city')).toBe('Lyon')
    expect(valueAt(traits, 'address.geo.lat')).toBe(45.7)
    expect(valueAt(traits, 'address')).toEqual({ city: 'Lyon', geo: { lat: 45.7 } })
  })

  it('never walks into an array, even with an index for a part', () => {
    expect(valueAt(traits, 'items.0')).toBeUndefined()
    expect(valueAt(traits, 'items.0.sku')).toBeUndefined()
    expect(valueAt(traits, 'items')).toEqual([{ sku: 'a' }])
  })

  it('finds nothing past a scalar or null, nor in properties objects inherit', () => {
    expect(valueAt(traits, 'plan.length')).toBeUndefined()
    expect(valueAt(traits, 'nothing.x')).toBeUndefined()
    expect(valueAt(traits, 'nothing')).toBeNull()
    expect(valueAt(traits, 'constructor')).toBeUndefined()
    expect(valueAt(traits, 'address.toString')).toBeUndefined()
    expect(valueAt(JSON.parse('{"__proto__": {"x": 1}}'), '__proto__.x')).toBe(1)
  })
})

describe('parseDate', () => {
  it('reads a date alone as midnight UTC', () => {
    expect(parseDate('2026-12-10')).toBe(Date.UTC(2026, 11, 10))
  })

  it('reads a time after T or a space, to the minute, second or millisecond', () => {
    expect(parseDate('2026-12-10T08:30')).toBe(Date.UTC(2026, 11, 10, 8, 30))
    expect(parseDate('2026-12-10 08:30')).toBe(Date.UTC(2026, 11, 10, 8, 30))
    expect(parseDate('2026-12-10T08:30:15')).toBe(Date.UTC(2026, 11, 10, 8, 30, 15))
    expect(parseDate('2026-12-10T08:30:15.123')).toBe(Date.UTC(2026, 11, 10, 8, 30, 15, 123))
  })

  it('reads 1–3 fractional digits as fractions of a second', () => {
    const second = Date.UTC(2026, 11, 10, 8, 30, 15)
    expect(parseDate('2026-12-10T08:30:15.5')).toBe(second + 500)
    expect(parseDate('2026-12-10T08:30:15.05')).toBe(second + 50)
    expect(parseDate('2026-12-10T08:30:15.005')).toBe(second + 5)
    expect(parseDate('2026-12-10T08:30:15.0005')).toBeNull()
    expect(parseDate('2026-12-10T08:30:15.')).toBeNull()
  })

  it('applies Z and ±HH:MM offsets, and no offset means UTC', () => {
    const utc = Date.UTC(2026, 11, 10, 8, 30)
    expect(parseDate('2026-12-10T08:30Z')).toBe(utc)
    expect(parseDate('2026-12-10T10:30+02:00')).toBe(utc)
    expect(parseDate('2026-12-10T03:00-05:30')).toBe(utc)
    expect(parseDate('2026-12-10T08:30:00.000-00:00')).toBe(utc)
    expect(parseDate('2026-12-10T23:30+14:00')).toBe(Date.UTC(2026, 11, 10, 9, 30))
    expect(parseDate('2026-12-10T08:30:00')).toBe(utc)
  })

  it('reads years before 100 as themselves, not as 19xx', () => {
    expect(parseDate('0050-06-01')).toBe(Date.parse('0050-06-01T00:00:00Z'))
    expect(parseDate('0000-01-01')).toBe(-62_167_219_200_000)
    expect(parseDate('9999-12-31T23:59:59.999Z')).toBe(253_402_300_799_999)
  })

  it('checks the day against the month, with leap years', () => {
    expect(parseDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29))
    expect(parseDate('2000-02-29')).toBe(Date.UTC(2000, 1, 29))
    expect(parseDate('0000-02-29')).not.toBeNull()
    expect(parseDate('2023-02-29')).toBeNull()
    expect(parseDate('1900-02-29')).toBeNull()
    expect(parseDate('2024-02-30')).toBeNull()
    expect(parseDate('2026-04-31')).toBeNull()
    expect(parseDate('2026-12-31')).toBe(Date.UTC(2026, 11, 31))
    expect(parseDate('2026-12-00')).toBeNull()
  })

  it('refuses fields out of range', () => {
    for (const text of [
      '2026-13-01',
      '2026-00-01',
      '2026-12-32',
      '2026-12-10T24:00',
      '2026-12-10T25:00',
      '2026-12-10T12:60',
      '2026-12-10T12:00:60',
      '2026-12-10T12:00+15:00',
      '2026-12-10T12:00+02:60',
    ]) {
      expect(parseDate(text), text).toBeNull()
    }
  })

  it('refuses every other shape', () => {
    for (const text of [
      '',
      '2026-1-01',
      '26-12-10',
      '2026/12/10',
      '20261210',
      '2026-12-10Z',
      '2026-12-10+02:00',
      '2026-12-10T',
      '2026-12-10T08',
      '2026-12-10t08:30',
      '2026-12-10T08:30z',
      '2026-12-10T08:30+0200',
      '2026-12-10T08:30+02',
      '2026-12-10T08:30.5',
      '2026-12-10  08:30',
      ' 2026-12-10',
      '2026-12-10 ',
      '+02026-12-10',
      '２０２６-12-10',
      'Thu, 10 Dec 2026 08:30:00 GMT',
    ]) {
      expect(parseDate(text), text).toBeNull()
    }
  })

  it('reads only strings: an epoch number or a Date is not a date string', () => {
    expect(parseDate(Date.UTC(2026, 11, 10))).toBeNull()
    expect(parseDate(new Date())).toBeNull()
    expect(parseDate(null)).toBeNull()
    expect(parseDate(undefined)).toBeNull()
  })
})
