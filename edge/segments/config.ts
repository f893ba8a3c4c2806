import { drizzle } from 'drizzle-orm/d1'
import { asc } from 'drizzle-orm'
import { segments } from '../db/schema'
import type { Rule } from '../../domain/segments/rule'
import { RefreshedValue } from '../cache/refreshed-value'
import type { Env } from '../env'
import { sha256Hex } from '../access/secrets'

export interface SegmentDefinition {
  id: string
  name: string
  rule: Rule
}

/** Every segment, as contact objects evaluate them, named by a digest of them all. */
export interface SegmentConfig {
  segments: SegmentDefinition[]
  version: string
}

/** The version of a deployment without segments. */
export const NO_SEGMENTS = 'none'

/**
 * Read on every ingest request, changed rarely: cached per isolate for a few seconds like the
 * attribution configuration (attribution/config.ts); an edit reaches contacts through the
 * version ingest calls name and, at once, through the backfill (segments/backfill.ts).
 */
const CACHE_MS = 5_000
const cached = new RefreshedValue<SegmentConfig>(CACHE_MS)

export function segmentConfig(env: Pick<Env, 'DB'>): Promise<SegmentConfig> {
  return cached.get(() => loadSegmentConfig(env.DB))
}

export function forgetSegmentConfig() {
  cached.forget()
}

/** Reads the segments from D1, uncached. */
export async function loadSegmentConfig(db: D1Database): Promise<SegmentConfig> {
  const rows = await drizzle(db)
    .select({ id: segments.id, name: segments.name, rule: segments.rule })
    .from(segments)
    .orderBy(asc(segments.id))
  const definitions = rows.map((row) => ({ ...row, rule: row.rule as Rule }))
  return {
    segments: definitions,
    version:
      definitions.length === 0
        ? NO_SEGMENTS
        : (await sha256Hex(JSON.stringify(definitions))).slice(0, 32),
  }
}
