/**
 * Checks aggregated paths that come from users (the JSON body of `POST
 * /api/attribution/analyze`; csv.ts shares the row rules). Problems come back as values naming
 * the row and column, up to 20 of them, so a marketer can fix an export in one pass.
 */

import type { AggregatedPath } from './paths'
import { fail, ok, type PathIssue, type PathIssueCode, type Result } from './result'

export interface PathLimits {
  /** Default 100,000 rows. */
  maxRows?: number
  /** Channels in one path; default 1,000. */
  maxPathLength?: number
  /** Distinct channels overall; default 1,000 (Markov solves once per channel). */
  maxChannels?: number
  /** Characters in one channel name; default 200. */
  maxChannelLength?: number
}

export const DEFAULT_PATH_LIMITS: Required<PathLimits> = {
  maxRows: 100_000,
  maxPathLength: 1_000,
  maxChannels: 1_000,
  maxChannelLength: 200,
}

const MAX_ISSUES = 20

/** Where in the input a row sits, and how to say so in a message. */
export interface RowPlace {
  index?: number
  row?: number
  line?: number
  describe(column: string): string
}

/** Collects issues, keeping the first few and counting the rest. */
export class IssueList {
  readonly issues: PathIssue[] = []
  count = 0
  readonly channels = new Set<string>()

  constructor(readonly limits: Required<PathLimits>) {}

  add(place: RowPlace, column: string, code: PathIssueCode, problem: string) {
    this.count++
    if (this.issues.length >= MAX_ISSUES) return
    const issue: PathIssue = { code, message: `${place.describe(column)}: ${problem}`, column }
    if (place.index !== undefined) issue.index = place.index
    if (place.row !== undefined) issue.row = place.row
    if (place.line !== undefined) issue.line = place.line
    this.issues.push(issue)
  }

  /** Trimmed channel names, or null after reporting why the path is unusable. */
  channelsOf(place: RowPlace, column: string, raw: readonly unknown[]): string[] | null {
    if (raw.length === 0) {
      this.add(place, column, 'empty_path', 'the path has no channels')
      return null
    }
    if (raw.length > this.limits.maxPathLength) {
      const problem = `${raw.length} channels, more than the ${this.limits.maxPathLength} allowed`
      this.add(place, column, 'path_too_long', problem)
      return null
    }
    const channels: string[] = []
    for (const [i, item] of raw.entries()) {
      const channel = typeof item === 'string' ? item.trim() : ''
      if (channel === '') {
        const what = typeof item === 'string' ? 'is empty' : `is not text (${JSON.stringify(item)})`
        this.add(place, column, 'empty_channel', `channel ${i + 1} ${what}`)
        return null
      }
      if (channel.length > this.limits.maxChannelLength) {
        const problem = `channel ${i + 1} is longer than ${this.limits.maxChannelLength} characters`
        this.add(place, column, 'channel_too_long', problem)
        return null
      }
      channels.push(channel)
    }
    for (const channel of channels) this.channels.add(channel)
    return channels
  }

  /** A count or amount: finite and not negative. */
  amountOf(place: RowPlace, column: string, value: number, shown: string): number | null {
    if (!Number.isFinite(value)) {
      this.add(place, column, 'not_a_number', `expected a number, got ${shown}`)
      return null
    }
    if (value < 0) {
      this.add(place, column, 'negative', `expected a number ≥ 0, got ${shown}`)
      return null
    }
    return value
  }

  /** Value with no conversion to carry it would be credited to nobody. */
  checkValueHasConversions(place: RowPlace, row: AggregatedPath) {
    if (row.value > 0 && row.conversions === 0) {
      this.add(place, 'value', 'value_without_conversions', 'value given but conversions is 0')
    }
  }

  finish(rows: AggregatedPath[], code: 'invalid_paths' | 'invalid_csv'): Result<AggregatedPath[]> {
    if (this.count > 0) {
      const first = this.issues[0]!.message
      const more = this.count > 1 ? ` (and ${this.count - 1} more)` : ''
      return fail({
        code,
        message: `${first}${more}`,
        details: { issues: this.issues, issueCount: this.count },
      })
    }
    if (rows.length === 0) return fail({ code: 'no_paths', message: 'no paths to analyse' })
    if (this.channels.size > this.limits.maxChannels) {
      return fail({
        code,
        message: `${this.channels.size} distinct channels, more than the ${this.limits.maxChannels} allowed; group them (for example by source/medium) first`,
        details: { limit: this.limits.maxChannels },
      })
    }
    return ok(rows)
  }
}

export function tooManyRows(limit: number): Result<AggregatedPath[]> {
  return fail({
    code: 'too_many_rows',
    message: `more than ${limit} rows; aggregate identical paths or split the input`,
    details: { limit },
  })
}

/** The `paths` array of a JSON request. */
export function validatePaths(input: unknown, limits: PathLimits = {}): Result<AggregatedPath[]> {
  const all = { ...DEFAULT_PATH_LIMITS, ...limits }
  if (!Array.isArray(input)) {
    return fail({ code: 'invalid_paths', message: 'paths must be a list of path rows' })
  }
  if (input.length > all.maxRows) return tooManyRows(all.maxRows)
  const issues = new IssueList(all)
  const rows: AggregatedPath[] = []
  input.forEach((item: unknown, index) => {
    const place: RowPlace = { index, describe: (column) => `paths[${index}].${column}` }
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      const shown: RowPlace = { index, describe: () => `paths[${index}]` }
      issues.add(shown, '', 'not_an_object', 'expected an object with path and conversions')
      return
    }
    const fields = item as Record<string, unknown>
    let path: string[] | null = null
    if (fields.path === undefined) {
      issues.add(place, 'path', 'missing', 'required, a list of channel names')
    } else if (!Array.isArray(fields.path)) {
      issues.add(place, 'path', 'not_a_list', `expected a list of channel names`)
    } else {
      path = issues.channelsOf(place, 'path', fields.path)
    }
    const amount = (column: 'conversions' | 'value' | 'nulls', required: boolean) => {
      const raw = fields[column]
      if (raw === undefined || raw === null) {
        if (required) issues.add(place, column, 'missing', 'required, a number ≥ 0')
        return required ? null : 0
      }
      if (typeof raw !== 'number') {
        issues.add(place, column, 'not_a_number', `expected a number, got ${JSON.stringify(raw)}`)
        return null
      }
      return issues.amountOf(place, column, raw, String(raw))
    }
    const conversions = amount('conversions', true)
    const value = amount('value', false)
    const nulls = amount('nulls', false)
    if (path === null || conversions === null || value === null || nulls === null) return
    const row = { path, conversions, value, nulls }
    issues.checkValueHasConversions(place, row)
    rows.push(row)
  })
  return issues.finish(rows, 'invalid_paths')
}
