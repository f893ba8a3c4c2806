import { describe, expect, it } from 'vitest'
import { validatePaths } from './validate'

const errorOf = (input: unknown, limits = {}) => {
  const result = validatePaths(input, limits)
  if (result.ok) throw new Error('expected a failure')
  return result.error
}

describe('validatePaths', () => {
  it('accepts rows, trims channel names and defaults value and nulls to 0', () => {
    expect(validatePaths([{ path: [' email ', 'search'], conversions: 2 }])).toEqual({
      ok: true,
      value: [{ path: ['email', 'search'], conversions: 2, value: 0, nulls: 0 }],
    })
  })

  it('accepts fractional counts, as some tools export', () => {
    expect(validatePaths([{ path: ['a'], conversions: 0.5, value: 1.25, nulls: 2.5 }]).ok).toBe(
      true,
    )
  })

  it('rejects what is not a list, and an empty list', () => {
    expect(errorOf({ paths: [] })).toMatchObject({ code: 'invalid_paths' })
    expect(errorOf([])).toMatchObject({ code: 'no_paths' })
  })

  it('names the index and field of every problem', () => {
    const error = errorOf([
      { path: ['a'], conversions: 1 },
      'a > b',
      { path: 'a > b', conversions: 1 },
      { path: ['a', ''], conversions: 1 },
      { path: ['a', 7], conversions: 1 },
      { path: [], conversions: 1 },
      { path: ['a'] },
      { path: ['a'], conversions: '3' },
      { path: ['a'], conversions: -1 },
      { path: ['a'], conversions: 1, value: Number.POSITIVE_INFINITY },
      { path: ['a'], conversions: 0, value: 5 },
    ])
    expect(error.code).toBe('invalid_paths')
    expect(error.details?.issues?.map((issue) => [issue.index, issue.column, issue.code])).toEqual([
      [1, '', 'not_an_object'],
      [2, 'path', 'not_a_list'],
      [3, 'path', 'empty_channel'],
      [4, 'path', 'empty_channel'],
      [5, 'path', 'empty_path'],
      [6, 'conversions', 'missing'],
      [7, 'conversions', 'not_a_number'],
      [8, 'conversions', 'negative'],
      [9, 'value', 'not_a_number'],
      [10, 'value', 'value_without_conversions'],
    ])
    expect(error.message).toBe(
      'paths[1]: expected an object with path and conversions (and 9 more)',
    )
    expect(error.details?.issues?.[4]?.message).toBe('paths[5].path: the path has no channels')
    expect(error.details?.issues?.[3]?.message).toBe('paths[4].path: channel 2 is not text (7)')
  })

  it('enforces the limits', () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ path: [`c${i}`], conversions: 1 }))
    expect(errorOf(rows, { maxRows: 4 })).toMatchObject({ code: 'too_many_rows' })
    expect(errorOf(rows, { maxChannels: 4 })).toMatchObject({
      code: 'invalid_paths',
      details: { limit: 4 },
    })
    expect(errorOf([{ path: ['x'.repeat(201)], conversions: 1 }]).details?.issues?.[0]?.code).toBe(
      'channel_too_long',
    )
    expect(
      errorOf([{ path: ['a', 'b'], conversions: 1 }], { maxPathLength: 1 }).details?.issues?.[0]
        ?.code,
    ).toBe('path_too_long')
  })
})
