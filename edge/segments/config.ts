import { drizzle } from 'drizzle-orm/d1'
import { asc, eq } from 'drizzle-orm'
import { segments, settings } from '../db/schema'
import type { Rule } from '../../domain/segments/rule'
import { RefreshedValue } from '../cache/refreshed-value'
import type { Env } from '../env'
import { sha256Hex } from '../access/secrets'

export interface SegmentDefinition {
  id: string
  name: string
  rule: Rule
}

/**
 * Every segment, as contact objects evaluate them. The version is `<generation>.<digest>`: the
 * generation counts the changes (`segmentsChanged`), so an object told a newer configuration by
 * a backfill never goes back to an older one that a request from an isolate with a cached copy
 * names (`isOlderVersion`); the digest changes whenever the segments do.
 */
export interface SegmentConfig {
  segments: SegmentDefinition[]
  version: string
}

const GENERATION_KEY = 'segments_generation'

/** Whether configuration version `a` is older than `b` (a missing `b` is older than all). */
export function isOlderVersion(a: string, b: string | undefined): boolean {
  return b !== undefined && generationOf(a) < generationOf(b)
}

function generationOf(version: string): number {
  return Number(version.split('.')[0]) || 0
}

/** The statement to batch with every change to the segments table: the next generation. */
export function segmentsChanged(db: D1Database): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at`,
    )
    .bind(GENERATION_KEY, new Date().toISOString())
}

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
  const orm = drizzle(db)
  const [rows, [generation]] = await Promise.all([
    orm
      .select({ id: segments.id, name: segments.name, rule: segments.rule })
      .from(segments)
      .orderBy(asc(segments.id)),
    orm.select({ value: settings.value }).from(settings).where(eq(settings.key, GENERATION_KEY)),
  ])
  const definitions = rows.map((row) => ({ ...row, rule: row.rule as Rule }))
  const digest = (await sha256Hex(JSON.stringify(definitions))).slice(0, 16)
  return { segments: definitions, version: `${Number(generation?.value ?? 0)}.${digest}` }
}
