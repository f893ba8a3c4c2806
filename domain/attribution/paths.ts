/**
 * The two shapes attribution works on: per-conversion touch lists (real time, inside the
 * ContactDO) and aggregated paths (fitting, and `POST /api/attribution/analyze`).
 *
 * Repeated consecutive channels are collapsed by default (`email > email > search` becomes
 * `email > search`). A run of the same channel is usually one consideration episode logged
 * once per session (a bookmark revisited, a newsletter reopened), and counting every session
 * would make linear, position and time-decay credit follow visit frequency rather than channel
 * influence. Nothing else loses by it: first, last and last-non-direct ignore runs, Shapley
 * works on channel sets, and first-order Markov removal effects do not depend on self-loops.
 * A return to a channel after another one (`email > search > email`) is kept.
 */

import { DIRECT } from '../channel'

export { DIRECT }

export interface AggregatedPath {
  path: string[]
  conversions: number
  value: number
  nulls: number
}

export interface Touch {
  channel: string
  /** Epoch milliseconds. */
  at: number
  /** Tied to the contact by a first-party id or identify link; missing means inferred. */
  deterministic?: boolean
}

export interface Conversion {
  /** Epoch milliseconds. */
  at: number
  value: number
  touches: Touch[]
}

export interface PathOptions {
  /** Collapse repeated consecutive channels; default true. */
  collapse?: boolean
}

/** Unique paths as channel indices, ready for the models; built once per fit. */
export interface PreparedPaths {
  /** Sorted, so every model's output lists channels in the same order. */
  channels: string[]
  /** Indices into `channels`; never empty. */
  paths: Int32Array[]
  conversions: Float64Array
  nulls: Float64Array
  values: Float64Array
}

const DAY_MS = 86_400_000

/** Exports name the direct channel `direct`, `Direct` or `(direct)`; treat them alike. */
export function isDirectChannel(channel: string): boolean {
  return /^\(?direct\)?$/i.test(channel.trim())
}

export function collapseRepeats(path: readonly string[]): string[] {
  const out: string[] = []
  for (const channel of path) if (out[out.length - 1] !== channel) out.push(channel)
  return out
}

/**
 * Collapses runs of the same channel to their latest touch: time decay should weigh a run by
 * when the channel last reached the contact. The run is deterministic only if every touch was.
 */
export function collapseTouchRuns(touches: readonly Touch[]): Touch[] {
  const out: Touch[] = []
  for (const touch of touches) {
    const previous = out[out.length - 1]
    if (previous && previous.channel === touch.channel) {
      out[out.length - 1] = {
        channel: touch.channel,
        at: touch.at,
        deterministic: previous.deterministic === true && touch.deterministic === true,
      }
    } else {
      out.push({ ...touch })
    }
  }
  return out
}

/** Touches that may be credited for a conversion at `at`: inside the lookback, oldest first. */
export function touchesForConversion(
  touches: readonly Touch[],
  at: number,
  { lookbackDays = 90, maxTouches = Infinity }: { lookbackDays?: number; maxTouches?: number } = {},
): Touch[] {
  const from = at - lookbackDays * DAY_MS
  const inWindow = touches.filter((touch) => touch.at >= from && touch.at <= at)
  inWindow.sort((a, b) => a.at - b.at)
  return inWindow.length > maxTouches ? inWindow.slice(inWindow.length - maxTouches) : inWindow
}

/**
 * Merges identical paths (after collapsing) so every model works on unique paths: a million
 * exported rows usually hold a few thousand distinct paths. An empty path is a conversion
 * nothing can be tied to, which is what `direct` means.
 */
export function preparePaths(
  rows: Iterable<AggregatedPath>,
  { collapse = true }: PathOptions = {},
): PreparedPaths {
  const idOf = new Map<string, number>()
  const names: string[] = []
  const slotOf = new Map<string, number>()
  const sequences: number[][] = []
  const conversions: number[] = []
  const nulls: number[] = []
  const values: number[] = []
  for (const row of rows) {
    const ids: number[] = []
    for (const channel of row.path.length > 0 ? row.path : [DIRECT]) {
      let id = idOf.get(channel)
      if (id === undefined) {
        id = names.length
        idOf.set(channel, id)
        names.push(channel)
      }
      if (collapse && ids[ids.length - 1] === id) continue
      ids.push(id)
    }
    const key = ids.join(',')
    let slot = slotOf.get(key)
    if (slot === undefined) {
      slot = sequences.length
      slotOf.set(key, slot)
      sequences.push(ids)
      conversions.push(0)
      nulls.push(0)
      values.push(0)
    }
    conversions[slot]! += row.conversions
    nulls[slot]! += row.nulls
    values[slot]! += row.value
  }
  const channels = names.slice().sort()
  const rank = new Int32Array(names.length)
  channels.forEach((name, position) => (rank[idOf.get(name)!] = position))
  return {
    channels,
    paths: sequences.map((ids) => Int32Array.from(ids, (id) => rank[id]!)),
    conversions: Float64Array.from(conversions),
    nulls: Float64Array.from(nulls),
    values: Float64Array.from(values),
  }
}
