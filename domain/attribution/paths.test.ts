import { describe, expect, it } from 'vitest'
import {
  collapseRepeats,
  collapseTouchRuns,
  isDirectChannel,
  preparePaths,
  touchesForConversion,
} from './paths'

const DAY = 86_400_000

describe('collapseRepeats', () => {
  it('merges consecutive repeats and keeps returns after another channel', () => {
    expect(collapseRepeats(['email', 'email', 'search', 'search', 'email'])).toEqual([
      'email',
      'search',
      'email',
    ])
    expect(collapseRepeats([])).toEqual([])
    expect(collapseRepeats(['direct'])).toEqual(['direct'])
  })
})

describe('collapseTouchRuns', () => {
  it('keeps the latest touch of a run, deterministic only if every touch in it was', () => {
    const runs = collapseTouchRuns([
      { channel: 'email', at: 1, deterministic: true },
      { channel: 'email', at: 2, deterministic: false },
      { channel: 'search', at: 3, deterministic: true },
      { channel: 'search', at: 4, deterministic: true },
      { channel: 'email', at: 5 },
    ])
    expect(runs).toEqual([
      { channel: 'email', at: 2, deterministic: false },
      { channel: 'search', at: 4, deterministic: true },
      { channel: 'email', at: 5 },
    ])
  })
})

describe('isDirectChannel', () => {
  it('recognises the spellings exports use', () => {
    for (const name of ['direct', 'Direct', '(direct)', ' DIRECT '])
      expect(isDirectChannel(name)).toBe(true)
    for (const name of ['direct_mail', 'email', '(none)']) expect(isDirectChannel(name)).toBe(false)
  })
})

describe('touchesForConversion', () => {
  const at = 100 * DAY
  const touches = [
    { channel: 'late', at: at + 1 },
    { channel: 'b', at: at - 2 * DAY },
    { channel: 'too-old', at: at - 91 * DAY },
    { channel: 'a', at: at - 90 * DAY },
    { channel: 'c', at },
  ]

  it('keeps touches inside the 90-day lookback, oldest first, none after the conversion', () => {
    expect(touchesForConversion(touches, at).map((t) => t.channel)).toEqual(['a', 'b', 'c'])
  })

  it('honours a shorter lookback and keeps the latest touches when bounded', () => {
    expect(touchesForConversion(touches, at, { lookbackDays: 3 }).map((t) => t.channel)).toEqual([
      'b',
      'c',
    ])
    expect(touchesForConversion(touches, at, { maxTouches: 2 }).map((t) => t.channel)).toEqual([
      'b',
      'c',
    ])
  })
})

describe('preparePaths', () => {
  const rows = [
    { path: ['search', 'email', 'email'], conversions: 1, value: 10, nulls: 2 },
    { path: ['search', 'email'], conversions: 2, value: 5, nulls: 0 },
    { path: ['banner'], conversions: 0, value: 0, nulls: 4 },
    { path: [], conversions: 1, value: 3, nulls: 0 },
  ]

  it('merges paths that are equal after collapsing and sorts channels', () => {
    const prepared = preparePaths(rows)
    expect(prepared.channels).toEqual(['banner', 'direct', 'email', 'search'])
    expect(prepared.paths.map((p) => Array.from(p, (c) => prepared.channels[c]))).toEqual([
      ['search', 'email'],
      ['banner'],
      ['direct'],
    ])
    expect(Array.from(prepared.conversions)).toEqual([3, 0, 1])
    expect(Array.from(prepared.values)).toEqual([15, 0, 3])
    expect(Array.from(prepared.nulls)).toEqual([2, 4, 0])
  })

  it('keeps runs apart when collapsing is off', () => {
    const prepared = preparePaths(rows, { collapse: false })
    expect(prepared.paths).toHaveLength(4)
    expect(Array.from(prepared.paths[0]!, (c) => prepared.channels[c])).toEqual([
      'search',
      'email',
      'email',
    ])
  })
})
