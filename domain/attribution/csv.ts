/**
 * Aggregated paths as CSV, the form most attribution tools export: a `path` column of
 * `a > b > c` plus `conversions` and optional `value` and `nulls` (ChannelAttribution's
 * `total_conversions`, `total_conversion_value` and `total_null` are understood too).
 * RFC 4180 quoting; the delimiter is the comma unless the header uses `;` or tabs, as
 * spreadsheets in many locales save.
 */

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

interface CsvRecord {
  fields: string[]
  line: number
}

/** A number as spreadsheets write it, without thousands separators; the sign is checked later. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

export function parsePathsCsv(text: string, limits: PathLimits = {}): Result<AggregatedPath[]> {
  const all = { ...DEFAULT_PATH_LIMITS, ...limits }
  const records = readRecords(text.startsWith('\uFEFF') ? text.slice(1) : text, all.maxRows + 2)
  if (!Array.isArray(records)) return records
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
      if (!NUMBER.test(raw)) {
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

/**
 * Splits CSV text into records (blank lines skipped), stopping after `limit` records. A broken
 * quote makes every later field ambiguous, so it ends parsing with its line number.
 */
function readRecords(text: string, limit: number): CsvRecord[] | Result<AggregatedPath[]> {
  const delimiter = detectDelimiter(text)
  const records: CsvRecord[] = []
  let fields: string[] = []
  let field = ''
  let line = 1
  let recordLine = 1
  let quoteLine = 0
  let state: 'start' | 'plain' | 'quoted' | 'closed' = 'start'
  const endField = () => {
    fields.push(field)
    field = ''
    state = 'start'
  }
  const endRecord = () => {
    endField()
    if (fields.length > 1 || fields[0]!.trim() !== '') records.push({ fields, line: recordLine })
    fields = []
  }
  const quoteError = (code: 'unterminated_quote' | 'stray_quote', at: number) => {
    const message =
      code === 'unterminated_quote'
        ? `line ${at}: a quoted field is never closed`
        : `line ${at}: a quote inside an unquoted field, or text after a closing quote; quote the whole field and double any quote inside it`
    return fail<AggregatedPath[]>({
      code: 'invalid_csv',
      message,
      details: { issues: [{ code, column: '', line: at, message }] },
    })
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (state === 'quoted') {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else {
          state = 'closed'
        }
      } else {
        if (ch === '\n') line++
        field += ch
      }
      continue
    }
    if (ch === delimiter) {
      endField()
    } else if (ch === '\n' || ch === '\r') {
      endRecord()
      if (records.length >= limit) return records
      if (ch === '\r' && text[i + 1] === '\n') i++
      line++
      recordLine = line
    } else if (ch === '"') {
      if (state !== 'start' && field.trim() !== '') return quoteError('stray_quote', line)
      if (state === 'closed') return quoteError('stray_quote', line)
      state = 'quoted'
      field = ''
      quoteLine = line
    } else if (state === 'closed') {
      if (ch.trim() !== '') return quoteError('stray_quote', line)
    } else {
      field += ch
      state = 'plain'
    }
  }
  if (state === 'quoted') return quoteError('unterminated_quote', quoteLine)
  if (field !== '' || fields.length > 0) endRecord()
  return records
}

function detectDelimiter(text: string): string {
  const end = text.search(/[\r\n]/)
  const header = end < 0 ? text : text.slice(0, end)
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length - 1] as const)
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a))
  return best[1] > 0 ? best[0] : ','
}
