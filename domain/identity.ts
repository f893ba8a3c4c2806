/**
 * Contact identity rules. Pure: no platform imports.
 *
 * A contact's canonical key is its `userId` when known, else `anon:<anonymousId>`. SDKs and
 * tag managers routinely send stringified empties ("null", "undefined", "[object Object]") as
 * ids; treating those as real would merge every visitor of a site into one contact, so they are
 * never identities.
 */

const PLACEHOLDER_IDS = new Set([
  '',
  'anonymous',
  'null',
  'undefined',
  'nil',
  'none',
  'nan',
  '0',
  '-1',
  'true',
  'false',
  '[object object]',
  'guest',
  'unknown',
])

export const ANON_PREFIX = 'anon:'

/** Ids are strings in the Segment spec, but SDKs send numbers too; both are normalised. */
export function usableId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value)
  if (typeof value !== 'string') return null
  const trimmed = value.trim()
  if (PLACEHOLDER_IDS.has(trimmed.toLowerCase())) return null
  return trimmed
}

export function isPlaceholderId(value: unknown): boolean {
  return value !== undefined && value !== null && usableId(value) === null
}

export function anonymousKey(anonymousId: string): string {
  return ANON_PREFIX + anonymousId
}

export function isAnonymousKey(key: string): boolean {
  return key.startsWith(ANON_PREFIX)
}

export function canonicalKey(ids: { userId?: string | null; anonymousId?: string | null }) {
  if (ids.userId) return ids.userId
  if (ids.anonymousId) return anonymousKey(ids.anonymousId)
  return null
}
