/**
 * Markov chain attribution. Journeys are walks start → channel states → conversion | null; the
 * transition probabilities are the observed transition shares. A channel's removal effect is
 * the relative drop in the probability of reaching conversion from start when every state
 * holding that channel leads to null instead; credits split conversions (and value) in
 * proportion to the removal effects.
 *
 * Order k uses the last k channels as the state, so `a > b > c` at order 2 walks
 * start → (a) → (a,b) → (b,c). Removing a channel removes every state that holds it.
 *
 * Absorption probabilities solve x = Qx + b (Q: transitions among states, b: one-step
 * conversion probability). Gauss–Seidel sweeps over the sparse transitions, visiting states
 * nearest the end of their paths first, settle in a handful of sweeps because journeys mostly
 * move forward; one solve per channel, warm-started from the full solution. Self-loops are
 * dropped: they only delay absorption and never change where it ends.
 *
 * Value credits use a second, value-weighted chain on the same transitions: leaving a state to
 * conversion earns that state's average conversion value, so a channel that leads to large
 * orders loses more value when removed than one that leads to small ones.
 */

import { channelCredits, preciseSum, type ChannelCredits } from './credits'
import type { PreparedPaths } from './paths'

export interface MarkovOptions {
  /** How many past channels form a state; 1 to 4, default 1. */
  order?: number
}

/** The transition structure of a set of unique paths; counts come separately, per fit. */
export interface MarkovChain {
  order: number
  channels: string[]
  /** State 0 is start; the absorbing conversion and null states are implicit. */
  stateCount: number
  /** Sparse transitions grouped by origin: state s owns edges rowStart[s] .. rowStart[s+1]. */
  rowStart: Int32Array
  edgeTo: Int32Array
  /** Edges each unique path walks, self-loops left out. */
  pathEdges: Int32Array[]
  pathLastState: Int32Array
  /** States holding each channel, removed together. */
  channelStates: Int32Array[]
  sweepOrder: Int32Array
}

export interface MarkovFit {
  order: number
  channels: string[]
  /** Probability that a journey from start converts. */
  conversionProbability: number
  removalEffects: Record<string, number>
  valueRemovalEffects: Record<string, number>
  credits: ChannelCredits
  /** False only if a solve hit the sweep limit; the numbers are then approximate. */
  converged: boolean
}

const MAX_ORDER = 4
const TOLERANCE = 1e-14
const MAX_SWEEPS = 100_000

export function compileMarkovChain(
  prepared: PreparedPaths,
  { order = 1 }: MarkovOptions = {},
): MarkovChain {
  if (!Number.isInteger(order) || order < 1 || order > MAX_ORDER) {
    throw new RangeError(`Markov order must be an integer from 1 to ${MAX_ORDER}, got ${order}`)
  }
  const stateSequences = statesOfPaths(prepared, order)
  const stateChannels = stateSequences.stateChannels
  const stateCount = stateChannels.length

  const edgeOf = new Map<number, number>()
  const from: number[] = []
  const to: number[] = []
  const rawPathEdges = stateSequences.sequences.map((states) => {
    const edges: number[] = []
    let previous = 0
    for (const state of states) {
      if (state !== previous) {
        const key = previous * stateCount + state
        let edge = edgeOf.get(key)
        if (edge === undefined) {
          edge = from.length
          edgeOf.set(key, edge)
          from.push(previous)
          to.push(state)
        }
        edges.push(edge)
      }
      previous = state
    }
    return edges
  })

  // Group edges by origin so a sweep reads each state's row contiguously.
  const rowStart = new Int32Array(stateCount + 1)
  for (const origin of from) rowStart[origin + 1]!++
  for (let s = 0; s < stateCount; s++) rowStart[s + 1]! += rowStart[s]!
  const fill = rowStart.slice(0, stateCount)
  const position = new Int32Array(from.length)
  const edgeTo = new Int32Array(from.length)
  from.forEach((origin, edge) => {
    const slot = fill[origin]!++
    position[edge] = slot
    edgeTo[slot] = to[edge]!
  })

  const channelStates: number[][] = prepared.channels.map(() => [])
  stateChannels.forEach((channels, state) => {
    for (const channel of new Set(channels)) channelStates[channel]!.push(state)
  })

  return {
    order,
    channels: prepared.channels,
    stateCount,
    rowStart,
    edgeTo,
    pathEdges: rawPathEdges.map((edges) => Int32Array.from(edges, (edge) => position[edge]!)),
    pathLastState: Int32Array.from(
      stateSequences.sequences,
      (states) => states[states.length - 1]!,
    ),
    channelStates: channelStates.map((states) => Int32Array.from(states)),
    sweepOrder: sweepOrderOf(stateSequences.sequences, stateCount),
  }
}

function statesOfPaths(prepared: PreparedPaths, order: number) {
  if (order === 1) {
    const stateChannels = [[], ...prepared.channels.map((_, channel) => [channel])]
    const sequences = prepared.paths.map((path) => Int32Array.from(path, (channel) => channel + 1))
    return { stateChannels, sequences }
  }
  const stateOf = new Map<string, number>()
  const stateChannels: number[][] = [[]]
  const sequences = prepared.paths.map((path) =>
    Int32Array.from(path, (_, i) => {
      const window = Array.from(path.subarray(Math.max(0, i - order + 1), i + 1))
      const key = window.join(',')
      let state = stateOf.get(key)
      if (state === undefined) {
        state = stateChannels.length
        stateOf.set(key, state)
        stateChannels.push(window)
      }
      return state
    }),
  )
  return { stateChannels, sequences }
}

/** States by mean distance to the end of their paths, nearest first; start last. */
function sweepOrderOf(sequences: Int32Array[], stateCount: number): Int32Array {
  const distance = new Float64Array(stateCount)
  const seen = new Float64Array(stateCount)
  for (const states of sequences) {
    states.forEach((state, i) => {
      distance[state]! += states.length - 1 - i
      seen[state]!++
    })
  }
  const order = Array.from({ length: stateCount - 1 }, (_, i) => i + 1)
  const mean = (state: number) => distance[state]! / Math.max(1, seen[state]!)
  order.sort((a, b) => mean(a) - mean(b))
  order.push(0)
  return Int32Array.from(order)
}

/** Fits the chain to one set of per-path counts (the data, or a bootstrap replicate of it). */
export function fitMarkovChain(
  chain: MarkovChain,
  conversions: ArrayLike<number>,
  nulls: ArrayLike<number>,
  values: ArrayLike<number>,
): MarkovFit {
  const { stateCount, rowStart, edgeTo } = chain
  const edgeCount = new Float64Array(edgeTo.length)
  const toConversion = new Float64Array(stateCount)
  const toNull = new Float64Array(stateCount)
  const valueOut = new Float64Array(stateCount)
  chain.pathEdges.forEach((edges, p) => {
    const journeys = conversions[p]! + nulls[p]!
    if (journeys === 0) return
    for (const edge of edges) edgeCount[edge]! += journeys
    const last = chain.pathLastState[p]!
    toConversion[last]! += conversions[p]!
    toNull[last]! += nulls[p]!
    valueOut[last]! += values[p]!
  })

  const probability = new Float64Array(edgeTo.length)
  const convertNow = new Float64Array(stateCount)
  const earnNow = new Float64Array(stateCount)
  let largestEarning = 0
  for (let s = 0; s < stateCount; s++) {
    let leaving = toConversion[s]! + toNull[s]!
    for (let e = rowStart[s]!; e < rowStart[s + 1]!; e++) leaving += edgeCount[e]!
    if (leaving === 0) continue
    for (let e = rowStart[s]!; e < rowStart[s + 1]!; e++) probability[e] = edgeCount[e]! / leaving
    convertNow[s] = toConversion[s]! / leaving
    earnNow[s] = valueOut[s]! / leaving
    largestEarning = Math.max(largestEarning, earnNow[s]!)
  }
  // Expected value is solved in units of the largest earning so both solves share a tolerance.
  if (largestEarning > 0) for (let s = 0; s < stateCount; s++) earnNow[s]! /= largestEarning

  const solver = { chain, probability, convertNow, earnNow }
  const full = { x: new Float64Array(stateCount), y: new Float64Array(stateCount) }
  let converged = solve(solver, full.x, full.y, null)
  const baseX = full.x[0]!
  const baseY = full.y[0]!

  const removed = new Uint8Array(stateCount)
  const effects = new Float64Array(chain.channels.length)
  const valueEffects = new Float64Array(chain.channels.length)
  chain.channelStates.forEach((states, channel) => {
    if (baseX === 0 && baseY === 0) return
    const x = full.x.slice()
    const y = full.y.slice()
    for (const state of states) {
      removed[state] = 1
      x[state] = 0
      y[state] = 0
    }
    converged = solve(solver, x, y, removed) && converged
    for (const state of states) removed[state] = 0
    effects[channel] = baseX > 0 ? clamp01(1 - x[0]! / baseX) : 0
    valueEffects[channel] = baseY > 0 ? clamp01(1 - y[0]! / baseY) : 0
  })

  const totals = { conversions: preciseSum(conversions), value: preciseSum(values) }
  const conversionWeights = weightsOrFallback(effects, chain, conversions)
  // Value on paths with no journeys earns nothing in the chain; should that leave no value
  // effect at all, conversion effects stand in so the value credits still add up.
  const valueWeights = valueEffects.some((e) => e > 0) ? valueEffects : conversionWeights
  return {
    order: chain.order,
    channels: chain.channels,
    conversionProbability: baseX,
    removalEffects: byChannel(chain.channels, effects),
    valueRemovalEffects: byChannel(chain.channels, valueEffects),
    credits: channelCredits(chain.channels, conversionWeights, valueWeights, totals),
    converged,
  }
}

interface Solver {
  chain: MarkovChain
  probability: Float64Array
  convertNow: Float64Array
  earnNow: Float64Array
}

/** Gauss–Seidel on both absorption vectors at once; removed states stay at 0. */
function solve(solver: Solver, x: Float64Array, y: Float64Array, removed: Uint8Array | null) {
  const { chain, probability, convertNow, earnNow } = solver
  const { rowStart, edgeTo, sweepOrder } = chain
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let change = 0
    for (let i = 0; i < sweepOrder.length; i++) {
      const s = sweepOrder[i]!
      if (removed !== null && removed[s] === 1) continue
      let nextX = convertNow[s]!
      let nextY = earnNow[s]!
      for (let e = rowStart[s]!; e < rowStart[s + 1]!; e++) {
        const p = probability[e]!
        if (p === 0) continue
        nextX += p * x[edgeTo[e]!]!
        nextY += p * y[edgeTo[e]!]!
      }
      change = Math.max(change, Math.abs(nextX - x[s]!), Math.abs(nextY - y[s]!))
      x[s] = nextX
      y[s] = nextY
    }
    if (change <= TOLERANCE) return true
  }
  return false
}

/**
 * Conversions always give some channel a positive removal effect, unless floating point
 * swallows a vanishingly rare path; the channels then share by the conversions passing
 * through them, so the credits still add up.
 */
function weightsOrFallback(
  effects: Float64Array,
  chain: MarkovChain,
  conversions: ArrayLike<number>,
): Float64Array {
  if (effects.some((e) => e > 0)) return effects
  const through = new Float64Array(chain.stateCount)
  chain.pathEdges.forEach((edges, p) => {
    for (const edge of edges) through[chain.edgeTo[edge]!]! += conversions[p]!
  })
  return Float64Array.from(chain.channelStates, (states) =>
    states.reduce((sum, state) => sum + through[state]!, 0),
  )
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x))
}

function byChannel(channels: readonly string[], values: Float64Array): Record<string, number> {
  const out: Record<string, number> = {}
  channels.forEach((channel, i) => (out[channel] = values[i]!))
  return out
}

/** Fits a Markov chain of the given order to prepared paths. */
export function fitMarkov(prepared: PreparedPaths, options: MarkovOptions = {}): MarkovFit {
  const chain = compileMarkovChain(prepared, options)
  return fitMarkovChain(chain, prepared.conversions, prepared.nulls, prepared.values)
}
