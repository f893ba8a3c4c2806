/**
 * Shapley value attribution. Channels are players; a coalition S is worth
 *
 *   v(S) = conversions (or value) of the paths whose set of channels is a subset of S,
 *
 * what the channels in S would have won together without help (the "cumulative" game of Zhao et
 * al., 2018, the usual one for path data). A channel's credit is its marginal contribution
 * v(S ∪ {i}) − v(S) averaged over every order in which the channels could join.
 *
 * Three ways to compute the same numbers:
 * - `exact`: the definition, with v tabulated for all 2^n coalitions by one subset-sum pass and
 *   each marginal weighted by |S|!(n−|S|−1)!/n!. Used up to 12 channels by default.
 * - `closed_form`: this v is a sum of unanimity games (each path's channel set T worth its
 *   conversions), and Shapley shares a unanimity game equally among T; so each path's
 *   conversions are split evenly among its distinct channels. Exact for any number of channels,
 *   linear in the data; used beyond 12 channels by default.
 * - `sampled`: random join orders (seeded), with the standard error of each mean. Not needed
 *   for this v, kept for games without a closed form and as an independent check.
 *
 * Channels on no converting path are null players: they get 0 and are left out of the game,
 * which leaves everyone else's value unchanged and keeps the 2^n table small.
 */

import { channelCredits, preciseSum, type ChannelCredits } from './credits'
import type { PreparedPaths } from './paths'
import { seededRandom, shuffle } from './random'

export type ShapleyMethod = 'exact' | 'closed_form' | 'sampled'

export interface ShapleyOptions {
  /** Default `auto`: `exact` up to `exactMaxChannels` contributing channels, else `closed_form`. */
  method?: 'auto' | ShapleyMethod
  /** Default 12; at most 20 (a 2^20 table). */
  exactMaxChannels?: number
  /** Join orders drawn by `sampled`; default 1000. */
  samples?: number
  seed?: number
}

export interface ShapleyFit {
  channels: string[]
  method: ShapleyMethod
  /** Join orders drawn; 0 unless sampled. */
  samples: number
  credits: ChannelCredits
  /** Standard error of each credit; 0 for the exact methods. */
  standardError: ChannelCredits
}

/** Distinct channel sets of a set of unique paths; counts come separately, per fit. */
export interface Coalitions {
  channels: string[]
  /** Sorted channel indices. */
  sets: Int32Array[]
  setOfPath: Int32Array
}

export const DEFAULT_EXACT_MAX_CHANNELS = 12
const EXACT_LIMIT = 20
const DEFAULT_SAMPLES = 1000

export function compileCoalitions(prepared: PreparedPaths): Coalitions {
  const setOf = new Map<string, number>()
  const sets: Int32Array[] = []
  const setOfPath = Int32Array.from(prepared.paths, (path) => {
    const members = Int32Array.from(new Set(path)).sort()
    const key = members.join(',')
    let set = setOf.get(key)
    if (set === undefined) {
      set = sets.push(members) - 1
      setOf.set(key, set)
    }
    return set
  })
  return { channels: prepared.channels, sets, setOfPath }
}

/** Fits the game to one set of per-path counts (the data, or a bootstrap replicate of it). */
export function fitShapleyGame(
  coalitions: Coalitions,
  conversions: ArrayLike<number>,
  values: ArrayLike<number>,
  options: ShapleyOptions = {},
): ShapleyFit {
  const { channels, sets } = coalitions
  const worth = new Float64Array(sets.length)
  const worthValue = new Float64Array(sets.length)
  coalitions.setOfPath.forEach((set, p) => {
    worth[set]! += conversions[p]!
    worthValue[set]! += values[p]!
  })
  const game = contributingGame(channels.length, sets, worth, worthValue)
  const exactMax = options.exactMaxChannels ?? DEFAULT_EXACT_MAX_CHANNELS
  if (!Number.isInteger(exactMax) || exactMax < 0 || exactMax > EXACT_LIMIT) {
    throw new RangeError(`exactMaxChannels must be an integer from 0 to ${EXACT_LIMIT}`)
  }
  const requested = options.method ?? 'auto'
  const method: ShapleyMethod =
    requested !== 'auto' ? requested : game.players.length <= exactMax ? 'exact' : 'closed_form'

  let shares: { conversions: Float64Array; value: Float64Array }
  let errors = {
    conversions: new Float64Array(game.players.length),
    value: new Float64Array(game.players.length),
  }
  let samples = 0
  if (method === 'exact') {
    if (game.players.length > EXACT_LIMIT) {
      throw new RangeError(
        `exact Shapley enumerates 2^n coalitions; ${game.players.length} channels is over ${EXACT_LIMIT}`,
      )
    }
    shares = exactShapley(game)
  } else if (method === 'closed_form') {
    shares = closedFormShapley(game)
  } else {
    samples = options.samples ?? DEFAULT_SAMPLES
    if (!Number.isInteger(samples) || samples < 2) {
      throw new RangeError(`samples must be an integer ≥ 2, got ${samples}`)
    }
    const sampled = sampledShapley(game, samples, options.seed ?? 1)
    shares = sampled.means
    errors = sampled.errors
  }

  const widen = (perPlayer: Float64Array) => {
    const perChannel = new Float64Array(channels.length)
    game.players.forEach((channel, i) => (perChannel[channel] = Math.max(0, perPlayer[i]!)))
    return perChannel
  }
  const totals = { conversions: preciseSum(worth), value: preciseSum(worthValue) }
  return {
    channels,
    method,
    samples,
    credits: channelCredits(channels, widen(shares.conversions), widen(shares.value), totals),
    standardError: unsplitCredits(channels, widen(errors.conversions), widen(errors.value)),
  }
}

/** Errors are not shares of a total, so they are listed as they are. */
function unsplitCredits(
  channels: readonly string[],
  conversions: Float64Array,
  value: Float64Array,
): ChannelCredits {
  const credits: ChannelCredits = {}
  channels.forEach((channel, i) => {
    credits[channel] = { conversions: conversions[i]!, value: value[i]! }
  })
  return credits
}

interface Game {
  /** Channel index of each player. */
  players: number[]
  /** Coalitions with positive worth, as player indices. */
  sets: Int32Array[]
  worth: number[]
  worthValue: number[]
}

function contributingGame(
  channelCount: number,
  sets: Int32Array[],
  worth: Float64Array,
  worthValue: Float64Array,
): Game {
  const playerOf = new Int32Array(channelCount).fill(-1)
  const players: number[] = []
  const game: Game = { players, sets: [], worth: [], worthValue: [] }
  sets.forEach((members, set) => {
    if (!(worth[set]! > 0) && !(worthValue[set]! > 0)) return
    game.sets.push(
      Int32Array.from(members, (channel) => {
        if (playerOf[channel] === -1) playerOf[channel] = players.push(channel) - 1
        return playerOf[channel]!
      }),
    )
    game.worth.push(worth[set]!)
    game.worthValue.push(worthValue[set]!)
  })
  return game
}

function exactShapley(game: Game) {
  const n = game.players.length
  const size = 2 ** n
  const v = new Float64Array(size)
  const vValue = new Float64Array(size)
  game.sets.forEach((members, set) => {
    let mask = 0
    for (const player of members) mask |= 1 << player
    v[mask]! += game.worth[set]!
    vValue[mask]! += game.worthValue[set]!
  })
  // Subset sums: afterwards v[S] is the worth of every path whose channels lie inside S.
  for (let bit = 1; bit < size; bit <<= 1) {
    for (let mask = 0; mask < size; mask++) {
      if (mask & bit) {
        v[mask]! += v[mask ^ bit]!
        vValue[mask]! += vValue[mask ^ bit]!
      }
    }
  }
  // |S|!(n-|S|-1)!/n! = 1 / (n · C(n-1, |S|))
  const weight = new Float64Array(Math.max(1, n))
  let binomial = 1
  for (let s = 0; s < n; s++) {
    weight[s] = 1 / (n * binomial)
    binomial = (binomial * (n - 1 - s)) / (s + 1)
  }
  const bits = new Uint8Array(size)
  for (let mask = 1; mask < size; mask++) bits[mask] = bits[mask >> 1]! + (mask & 1)
  const conversions = new Float64Array(n)
  const value = new Float64Array(n)
  for (let mask = 0; mask < size; mask++) {
    const w = weight[bits[mask]!]!
    for (let i = 0; i < n; i++) {
      const bit = 1 << i
      if (mask & bit) continue
      conversions[i]! += w * (v[mask | bit]! - v[mask]!)
      value[i]! += w * (vValue[mask | bit]! - vValue[mask]!)
    }
  }
  return { conversions, value }
}

function closedFormShapley(game: Game) {
  const conversions = new Float64Array(game.players.length)
  const value = new Float64Array(game.players.length)
  game.sets.forEach((members, set) => {
    for (const player of members) {
      conversions[player]! += game.worth[set]! / members.length
      value[player]! += game.worthValue[set]! / members.length
    }
  })
  return { conversions, value }
}

/**
 * In a join order, a path's worth is the marginal contribution of whichever of its channels
 * joins last (only then is its whole set inside the coalition); averaging over orders gives the
 * Shapley value, and the spread over orders its standard error.
 */
function sampledShapley(game: Game, samples: number, seed: number) {
  const n = game.players.length
  const random = seededRandom(seed)
  const order = Int32Array.from({ length: n }, (_, i) => i)
  const joinedAt = new Int32Array(n)
  const sums = [new Float64Array(n), new Float64Array(n)] as const
  const squares = [new Float64Array(n), new Float64Array(n)] as const
  const marginal = [new Float64Array(n), new Float64Array(n)] as const
  for (let sample = 0; sample < samples; sample++) {
    shuffle(random, order)
    order.forEach((player, position) => (joinedAt[player] = position))
    marginal[0].fill(0)
    marginal[1].fill(0)
    game.sets.forEach((members, set) => {
      let last = members[0]!
      for (const player of members) if (joinedAt[player]! > joinedAt[last]!) last = player
      marginal[0][last]! += game.worth[set]!
      marginal[1][last]! += game.worthValue[set]!
    })
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < n; i++) {
        sums[k]![i]! += marginal[k]![i]!
        squares[k]![i]! += marginal[k]![i]! ** 2
      }
    }
  }
  const mean = (k: 0 | 1) => sums[k].map((sum) => sum / samples)
  const error = (k: 0 | 1) =>
    sums[k].map((sum, i) => {
      const variance = (squares[k][i]! - (sum * sum) / samples) / (samples - 1)
      return Math.sqrt(Math.max(0, variance) / samples)
    })
  return {
    means: { conversions: mean(0), value: mean(1) },
    errors: { conversions: error(0), value: error(1) },
  }
}

export function fitShapley(prepared: PreparedPaths, options: ShapleyOptions = {}): ShapleyFit {
  return fitShapleyGame(compileCoalitions(prepared), prepared.conversions, prepared.values, options)
}
