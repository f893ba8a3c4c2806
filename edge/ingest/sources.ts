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
const enabledSources = new RefreshedValue<Source[]>(CACHE_MS)

export function sourceByWriteKey(env: Pick<Env, 'DB'>, writeKey: string): Promise<Source | null> {
  let entry = cache.get(writeKey)
  if (!entry) {
    if (cache.size >= 10_000) cache.clear()
    entry = new RefreshedValue(CACHE_MS)
    cache.set(writeKey, entry)
  }
  return entry.get(async () => {
    const [source] = await drizzle(env.DB)
      .select()
      .from(sources)
      .where(eq(sources.writeKey, writeKey))
    return source ?? null
  })
}

/** Preflight requests carry no write key: an origin any enabled source accepts may ask. */
export async function originAllowedByAnySource(
  env: Pick<Env, 'DB'>,
  origin: string,
): Promise<boolean> {
  const list = await enabledSources.get(() =>
    drizzle(env.DB).select().from(sources).where(eq(sources.enabled, true)),
  )
  return list.some((source) => originAllowed(source, origin))
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
  enabledSources.forget()
}
