import { describe, expect, it } from 'vitest'
import { parsePathsCsv } from './csv'

const errorOf = (text: string, limits = {}) => {
  const result = parsePathsCsv(text, limits)
  if (result.ok) throw new Error('expected a failure')
  return result.error
}

describe('parsePathsCsv', () => {
  it('reads paths, counts and optional columns', () => {
    const result = parsePathsCsv(
      'path,conversions,value,nulls\nemail > search,2,60.5,1\nsearch,1,,\n',
    )
    expect(result).toEqual({
      ok: true,
      value: [
        { path: ['email', 'search'], conversions: 2, value: 60.5, nulls: 1 },
        { path: ['search'], conversions: 1, value: 0, nulls: 0 },
      ],
    })
  })

  it('handles quotes, doubled quotes, CRLF, a BOM, blank lines and column order', () => {
    const text =
      '\uFEFFConversions,"Path",Revenue\r\n' +
      '3,"Paid Search > ""Brand"", EU > Email",12.5\r\n' +
      '\r\n' +
      '1,"multi\nline > x",0\r\n'
    const result = parsePathsCsv(text)
    expect(result.ok && result.value).toEqual([
      { path: ['Paid Search', '"Brand", EU', 'Email'], conversions: 3, value: 12.5, nulls: 0 },
      { path: ['multi\nline', 'x'], conversions: 1, value: 0, nulls: 0 },
    ])
  })

  it("understands semicolons, tabs and ChannelAttribution's column names", () => {
    const semicolons = parsePathsCsv(
      'path;total_conversions;total_conversion_value;total_null\na > b;1;2.5;3',
    )
    expect(semicolons.ok && semicolons.value).toEqual([
      { path: ['a', 'b'], conversions: 1, value: 2.5, nulls: 3 },
    ])
    const tabs = parsePathsCsv('path\tconversions\na\t4')
    expect(tabs.ok && tabs.value).toEqual([{ path: ['a'], conversions: 4, value: 0, nulls: 0 }])
  })

  it('names the missing column', () => {
    const error = errorOf('channels,conversions\na,1')
    expect(error.code).toBe('invalid_csv')
    expect(error.message).toContain('no "path" column')
    expect(error.details?.issues?.[0]).toMatchObject({ code: 'missing_column', column: 'path' })
  })

  it('names row, line and column of a bad number, counting quoted newlines', () => {
    // Row 2 starts on line 3 and spans two lines; row 3 starts on line 5.
    const error = errorOf('path,conversions\na,1\n"b\nc",2\nd,abc\n')
    expect(error.code).toBe('invalid_csv')
    expect(error.message).toBe('row 3 (line 5), column "conversions": expected a number, got "abc"')
    expect(error.details?.issues).toEqual([
      { code: 'not_a_number', column: 'conversions', row: 3, line: 5, message: error.message },
    ])
  })

  it('explains thousands separators, negatives and value without conversions', () => {
    const error = errorOf('path,conversions,value\na,"1,234",5\nb,-1,0\nc,0,9\n')
    const issues = error.details?.issues ?? []
    expect(issues.map((issue) => [issue.row, issue.column, issue.code])).toEqual([
      [1, 'conversions', 'not_a_number'],
      [2, 'conversions', 'negative'],
      [3, 'value', 'value_without_conversions'],
    ])
    expect(issues[0]!.message).toContain('without thousands separators')
    expect(error.message).toContain('(and 2 more)')
  })

  it('rejects empty paths and empty channels', () => {
    const issues = errorOf('path,conversions\n,1\na >  > b,1\n').details?.issues ?? []
    expect(issues.map((issue) => issue.code)).toEqual(['empty_path', 'empty_channel'])
    expect(issues[1]!.message).toBe('row 2 (line 3), column "path": channel 2 is empty')
  })

  it('flags rows with the wrong number of fields', () => {
    const issue = errorOf('path,conversions,value\na,1,1,234\n').details?.issues?.[0]
    expect(issue).toMatchObject({ code: 'column_count', row: 1, line: 2 })
  })

  it('stops at a quote that never closes, or a stray one', () => {
    const unterminated = errorOf('path,conversions\na,1\n"b > c,2\nd,3\n')
    expect(unterminated.details?.issues?.[0]).toMatchObject({ code: 'unterminated_quote', line: 3 })
    const stray = errorOf('path,conversions\na "quoted" b,1\n')
    expect(stray.details?.issues?.[0]).toMatchObject({ code: 'stray_quote', line: 2 })
    const trailing = errorOf('path,conversions\n"a" b,1\n')
    expect(trailing.details?.issues?.[0]).toMatchObject({ code: 'stray_quote', line: 2 })
  })

  it('keeps the first 20 problems and counts the rest', () => {
    const text = 'path,conversions\n' + Array.from({ length: 25 }, () => 'a,x').join('\n')
    const error = errorOf(text)
    expect(error.details?.issues).toHaveLength(20)
    expect(error.details?.issueCount).toBe(25)
  })

  it('enforces row and channel limits', () => {
    const rows = (n: number) =>
      'path,conversions\n' + Array.from({ length: n }, (_, i) => `c${i},1`).join('\n')
    expect(parsePathsCsv(rows(3), { maxRows: 3 }).ok).toBe(true)
    expect(errorOf(rows(4), { maxRows: 3 })).toMatchObject({
      code: 'too_many_rows',
      details: { limit: 3 },
    })
    expect(errorOf(rows(4), { maxChannels: 3 }).message).toContain('4 distinct channels')
    expect(
      errorOf('path,conversions\na > b > c,1', { maxPathLength: 2 }).details?.issues?.[0]?.code,
    ).toBe('path_too_long')
  })

  it('says so when there is nothing to read', () => {
    expect(errorOf('')).toMatchObject({ code: 'no_paths' })
    expect(errorOf('path,conversions\n\n')).toMatchObject({ code: 'no_paths' })
  })

  it('parses 10,000 rows quickly', () => {
    const text =
      'path,conversions,value,nulls\n' +
      Array.from(
        { length: 10_000 },
        (_, i) => `"s${i % 7} > e${i % 5} > d",${i % 3},${i % 3 ? 9.99 : 0},${i % 4}`,
      ).join('\n')
    const started = performance.now()
    const result = parsePathsCsv(text)
    expect(performance.now() - started).toBeLessThan(2000)
    expect(result.ok && result.value.length).toBe(10_000)
  })
})
