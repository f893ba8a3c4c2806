import { SEGMENT_LIMITS } from '../../contracts/segment'
import { expandedSize, findCycle, referencedSegments } from '../../domain/segments/dependencies'
import type { SegmentLookup } from '../../domain/segments/facts'
import type { Rule } from '../../domain/segments/rule'
import { countQuery } from '../../domain/segments/sql'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { startBackfill } from './backfill'
import {
  forgetSegmentConfig,
  loadSegmentConfig,
  type SegmentConfig,
  type SegmentDefinition,
} from './config'
import { insertSegment, segmentLookup, type StoredSegment } from './store'

/**
 * Saving a segment: the checks a rule passes before it is stored (the segments it names exist
 * and lead nowhere back, and D1 can run it) and what follows every change (contacts re-evaluate).
 * The segments routes and the journeys' template library create segments through here.
 */

/** A new segment (after its rule's checks), whose members are then computed in the background. */
export async function createSegment(
  env: Pick<Env, 'DB' | 'EVENTS'>,
  fields: { id: string; name: string; rule: Rule },
): Promise<StoredSegment> {
  const config = await loadSegmentConfig(env.DB)
  checkReferences(config, fields.rule)
  await checkRunsInD1(env.DB, config, fields.rule)
  const createdAt = new Date().toISOString()
  await insertSegment(env.DB, { ...fields, createdAt })
  forgetSegmentConfig()
  // No segment can refer to one that did not exist (a segment created since that does has a
  // backfill of its own): the configuration the checks read, with this one, is all its walk needs.
  await startBackfill(env, { ...config, segments: [...config.segments, fields] }, fields.id)
  return { ...fields, createdAt, updatedAt: createdAt, changedAt: null, count: 0 }
}

/** Contacts' objects read the configuration afresh, and the ones whose membership may move are told. */
export async function membershipChanged(env: Pick<Env, 'DB' | 'EVENTS'>, id: string) {
  forgetSegmentConfig()
  await startBackfill(env, await loadSegmentConfig(env.DB), id)
}

/**
 * A rule may name only segments that exist and, saved as segment `id`, none that leads back to
 * it: each evaluator reads a referenced rule in place. Errors name the reference's path.
 */
export function checkReferences(config: SegmentConfig, rule: Rule, id?: string) {
  const lookup = segmentLookup(config)
  const references = referencesIn(rule, 'rule')
  const unknown = references.filter((ref) => lookup(ref.id) === undefined)
  if (unknown.length > 0) {
    const issues = unknown.map((ref) => ({ path: ref.path, message: `no segment ${ref.id}` }))
    throw new ApiError(
      400,
      'unknown_segment',
      `Invalid request: ${issues[0]!.path}: ${issues[0]!.message}`,
      { issues },
    )
  }
  const cycle = id === undefined ? null : findCycle(id, rule, lookup)
  if (cycle) {
    const first = references.find((ref) => ref.id === cycle[1])!
    const message = `segment ${first.id} leads back to this one (${cycle.join(' → ')})`
    throw new ApiError(400, 'segment_cycle', `Invalid request: ${first.path}: ${message}`, {
      cycle,
      issues: [{ path: first.path, message }],
    })
  }
  // Read in place, a rule naming segments that name others can grow past any one rule's size:
  // every segment that would read this one is measured as it would be evaluated.
  const withThis: typeof lookup = (other) => (other === id ? rule : lookup(other))
  for (const [name, measured] of [
    [id ?? 'this rule', rule] as const,
    ...config.segments.filter((s) => s.id !== id).map((s) => [s.id, s.rule] as const),
  ]) {
    if (
      expandedSize(measured, withThis, SEGMENT_LIMITS.expandedRules) > SEGMENT_LIMITS.expandedRules
    ) {
      throw new ApiError(
        400,
        'rule_too_large',
        `Invalid request: rule: ${name} would hold more than ${SEGMENT_LIMITS.expandedRules} rules with the segments it names read in place`,
      )
    }
  }
}

/**
 * D1 runs what SQLite runs within its own bounds: at most 100 bound values and expressions at
 * most 100 deep. A rule past them would save and then fail every preview and backfill, so the
 * rule, and every segment that reads it in place, is planned by D1 (EXPLAIN, nothing runs) first.
 */
export async function checkRunsInD1(
  db: D1Database,
  config: SegmentConfig,
  rule: Rule,
  id?: string,
) {
  const lookup = segmentLookup(config)
  const withThis: SegmentLookup = (other) => (other === id ? rule : lookup(other))
  const readers = id === undefined ? [] : readersOf(config, id)
  const options = { now: Date.now(), lookup: withThis }
  const plans = [['this rule', rule] as const, ...readers.map((s) => [s.id, s.rule] as const)]
  for (const [name, measured] of plans) {
    try {
      const query = countQuery(measured, options)
      await db
        .prepare(`EXPLAIN QUERY PLAN ${query.sql}`)
        .bind(...query.params)
        .all()
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      throw new ApiError(
        400,
        'rule_too_large',
        `Invalid request: rule: ${name} is more than D1 can run as one query (${reason})`,
      )
    }
  }
}

/** The segments that read segment `id` in place, directly or through others. */
function readersOf(config: SegmentConfig, id: string): SegmentDefinition[] {
  const reading = new Set([id])
  let grew = true
  while (grew) {
    grew = false
    for (const segment of config.segments) {
      if (reading.has(segment.id)) continue
      if (referencedSegments(segment.rule).some((ref) => reading.has(ref))) {
        reading.add(segment.id)
        grew = true
      }
    }
  }
  return config.segments.filter((segment) => segment.id !== id && reading.has(segment.id))
}

/** Every `inSegment` of a rule with its path, spelt as validation errors spell paths. */
function referencesIn(rule: Rule, path: string): { path: string; id: string }[] {
  if ('all' in rule) return rule.all.flatMap((part, i) => referencesIn(part, `${path}.all[${i}]`))
  if ('any' in rule) return rule.any.flatMap((part, i) => referencesIn(part, `${path}.any[${i}]`))
  if ('not' in rule) return referencesIn(rule.not, `${path}.not`)
  if ('inSegment' in rule) return [{ path: `${path}.inSegment`, id: rule.inSegment }]
  return []
}
