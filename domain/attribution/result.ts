/**
 * Errors as values: user-supplied paths (JSON or CSV) fail with a code the edge maps to its one
 * error shape, instead of an exception that would need catching around every call.
 */

export type Result<T> = { ok: true; value: T } | { ok: false; error: AttributionError }

export type AttributionErrorCode = 'invalid_paths' | 'invalid_csv' | 'too_many_rows' | 'no_paths'

export interface AttributionError {
  code: AttributionErrorCode
  message: string
  details?: { issues?: PathIssue[]; issueCount?: number; limit?: number; rows?: number }
}

/** One problem in one row; `index` (0-based) for JSON rows, `row`/`line` (1-based) for CSV. */
export interface PathIssue {
  code: PathIssueCode
  message: string
  column: string
  index?: number
  row?: number
  line?: number
}

export type PathIssueCode =
  | 'not_an_object'
  | 'missing'
  | 'not_a_list'
  | 'empty_path'
  | 'empty_channel'
  | 'channel_too_long'
  | 'path_too_long'
  | 'not_a_number'
  | 'negative'
  | 'value_without_conversions'
  | 'column_count'
  | 'too_many_channels'
  | 'missing_column'
  | 'unterminated_quote'
  | 'stray_quote'

export function ok<T>(value: T): Result<T> {
  return { ok: true, value }
}

export function fail<T>(error: AttributionError): Result<T> {
  return { ok: false, error }
}
