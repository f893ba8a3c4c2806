/**
 * CSV text as records, for the uploads that come from spreadsheets and ad platforms (attribution
 * paths, marketing spend). RFC 4180 quoting; a leading BOM is dropped; the delimiter is the comma
 * unless the header uses `;` or tabs, as spreadsheets in many locales save. Pure.
 */

export interface CsvRecord {
  fields: string[]
  /** The line the record starts on, 1-based, as an editor numbers it. */
  line: number
}

export interface CsvError {
  code: 'unterminated_quote' | 'stray_quote'
  line: number
  message: string
}

export type CsvRead = { ok: true; records: CsvRecord[] } | { ok: false; error: CsvError }

/** A number as spreadsheets write it, without thousands separators or a currency sign. */
export const CSV_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/

/**
 * Splits CSV text into records (blank lines skipped), stopping after `limit` records. A broken
 * quote makes every later field ambiguous, so it ends parsing with its line number.
 */
export function readCsv(source: string, limit: number): CsvRead {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source
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
  const quoteError = (code: CsvError['code'], at: number): CsvRead => ({
    ok: false,
    error: {
      code,
      line: at,
      message:
        code === 'unterminated_quote'
          ? `line ${at}: a quoted field is never closed`
          : `line ${at}: a quote inside an unquoted field, or text after a closing quote; quote the whole field and double any quote inside it`,
    },
  })
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
      if (records.length >= limit) return { ok: true, records }
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
  return { ok: true, records }
}

function detectDelimiter(text: string): string {
  const end = text.search(/[\r\n]/)
  const header = end < 0 ? text : text.slice(0, end)
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length - 1] as const)
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a))
  return best[1] > 0 ? best[0] : ','
}
