import { drizzle } from 'drizzle-orm/d1'
import { eq } from 'drizzle-orm'
import { sources } from '../db/schema'
import { RefreshedValue } from '../cache/refreshed-value'
import type { Env } from '../env'

export type Source = typeof sources.$inferSelect

/**
 * Write keys are looked up on every ingest request; per-isolate caching takes D1 off the hot
 * path (see cache/refreshed-value.ts: an expired entry is served while one request refreshes
 * it). A change to a source (disabling it, new origins) reaches every isolate within CACHE_MS and
 * one read; the isolate that made the change forgets at once.
 */
const CACHE_MS = 5_000
const cache = new Map<string, RefreshedValue<Source | null>>()
let allSources: { list: Source[]; until: number } | undefined
/** The binding of the request that reads: the same database in every request of an isolate. */
let db: D1Database | undefined

export function sourceByWriteKey(env: Pick<Env, 'DB'>, writeKey: string): Promise<Source | null> {
  db = env.DB
  let entry = cache.get(writeKey)
  if (!entry) {
    if (cache.size >= 10_000) cache.clear()
    entry = new RefreshedValue(async () => {
      const [source] = await drizzle(db!)
        .select()
        .from(sources)
        .where(eq(sources.writeKey, writeKey))
      return source ?? null
    }, CACHE_MS)
    cache.set(writeKey, entry)
  }
  return entry.get()
}

/** Preflight requests carry no write key: an origin any enabled source accepts may ask. */
export async function originAllowedByAnySource(
  env: Pick<Env, 'DB'>,
  origin: string,
): Promise<boolean> {
  const now = Date.now()
  if (!allSources || allSources.until <= now) {
    const list = await drizzle(env.DB).select().from(sources).where(eq(sources.enabled, true))
    allSources = { list, until: now + CACHE_MS }
  }
  return allSources.list.some((source) => originAllowed(source, origin))
}

/** No listed origins means any origin, as with Segment; `https://*.shop.com` allows subdomains. */
export function originAllowed(source: Pick<Source, 'allowedOrigins'>, origin: string): boolean {
  if (source.allowedOrigins.length === 0) return true
  return source.allowedOrigins.some((allowed) => {
    if (allowed === '*' || allowed === origin) return true
    const wildcard = allowed.match(/^(https?:\/\/)\*\.(.+)$/)
    if (!wildcard) return false
    return origin.startsWith(wildcard[1]!) && origin.endsWith('.' + wildcard[2]!)
  })
}

export function forgetSources() {
  cache.clear()
  allSources = undefined
}
