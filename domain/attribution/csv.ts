/**
 * Aggregated paths as CSV, the form most attribution tools export: a `path` column of
 * `a > b > c` plus `conversions` and optional `value` and `nulls` (ChannelAttribution's
 * `total_conversions`, `total_conversion_value` and `total_null` are understood too).
 * Quoting and delimiters as domain/csv.ts reads them.
 */

import { CSV_NUMBER, readCsv } from '../csv'
import type { AggregatedPath } from './paths'
import { fail, type Result } from './result'
import {
  DEFAULT_PATH_LIMITS,
  IssueList,
  tooManyRows,
  type PathLimits,
  type RowPlace,
} from './validate'

const COLUMN_NAMES = {
  path: ['path', 'paths', 'channel_path'],
  conversions: ['conversions', 'total_conversions'],
  value: ['value', 'conversion_value', 'total_conversion_value', 'revenue'],
  nulls: ['nulls', 'null', 'total_null', 'total_nulls'],
} as const

type Column = keyof typeof COLUMN_NAMES

export function parsePathsCsv(text: string, limits: PathLimits = {}): Result<AggregatedPath[]> {
  const all = { ...DEFAULT_PATH_LIMITS, ...limits }
  const read = readCsv(text, all.maxRows + 2)
  if (!read.ok) {
    const { code, line, message } = read.error
    return fail({
      code: 'invalid_csv',
      message,
      details: { issues: [{ code, column: '', line, message }] },
    })
  }
  const records = read.records
  const [header, ...data] = records
  if (!header) return fail({ code: 'no_paths', message: 'the CSV is empty' })
  if (data.length > all.maxRows) return tooManyRows(all.maxRows)

  const names = header.fields.map((name) => name.trim().toLowerCase())
  const positions = {} as Record<Column, number>
  for (const column of Object.keys(COLUMN_NAMES) as Column[]) {
    positions[column] = names.findIndex((name) =>
      (COLUMN_NAMES[column] as readonly string[]).includes(name),
    )
  }
  for (const column of ['path', 'conversions'] as const) {
    if (positions[column] < 0) {
      return fail({
        code: 'invalid_csv',
        message: `the header has no "${column}" column (found: ${names.map((n) => `"${n}"`).join(', ')})`,
        details: {
          issues: [
            {
              code: 'missing_column',
              column,
              line: header.line,
              message: `missing column "${column}"`,
            },
          ],
        },
      })
    }
  }

  const issues = new IssueList(all)
  const rows: AggregatedPath[] = []
  data.forEach((record, i) => {
    const place: RowPlace = {
      row: i + 1,
      line: record.line,
      describe: (column) => `row ${i + 1} (line ${record.line}), column "${column}"`,
    }
    if (record.fields.length !== names.length) {
      const problem = `expected ${names.length} fields, found ${record.fields.length} (a comma inside an unquoted value?)`
      issues.add(place, '', 'column_count', problem)
      return
    }
    const cell = (column: Column) =>
      positions[column] < 0 ? '' : record.fields[positions[column]]!.trim()
    const pathText = cell('path')
    const path =
      pathText === ''
        ? (issues.add(place, 'path', 'empty_path', 'the path has no channels'), null)
        : issues.channelsOf(place, 'path', pathText.split('>'))
    const amount = (column: Column, required: boolean) => {
      const raw = cell(column)
      if (raw === '') {
        if (required) issues.add(place, column, 'missing', 'required, a number ≥ 0')
        return required ? null : 0
      }
      if (!CSV_NUMBER.test(raw)) {
        const hint = /\d,\d/.test(raw) ? ' (write numbers without thousands separators)' : ''
        issues.add(place, column, 'not_a_number', `expected a number, got "${raw}"${hint}`)
        return null
      }
      return issues.amountOf(place, column, Number(raw), `"${raw}"`)
    }
    const conversions = amount('conversions', true)
    const value = amount('value', false)
    const nulls = amount('nulls', false)
    if (path === null || conversions === null || value === null || nulls === null) return
    const row = { path, conversions, value, nulls }
    issues.checkValueHasConversions(place, row)
    rows.push(row)
  })
  return issues.finish(rows, 'invalid_csv')
}
