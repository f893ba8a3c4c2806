import { drizzle } from 'drizzle-orm/d1'
import { and, eq, gt, isNull } from 'drizzle-orm'
import { apiKeys, sessions, type Role } from '../db/schema'
import type { Env } from '../env'
import { equalSecrets, sha256Hex } from './secrets'

/** Who is calling the management API, and how they proved it. */
export interface Principal {
  keyId: string
  name: string
  role: Role
  via: 'key' | 'session'
  /** Present for cookie sessions: unsafe requests must echo it in X-CSRF-Token. */
  csrfToken?: string
}

export const BOOTSTRAP_KEY_ID = 'bootstrap'
const BOOTSTRAP_NAME = 'Bootstrap admin (CAIRN_ADMIN_KEY)'

/**
 * Resolved keys are cached per isolate for a few seconds so that a page of console requests
 * costs one D1 read; a revoked key stops working everywhere within KEY_CACHE_MS.
 */
const KEY_CACHE_MS = 5_000
const keyCache = new Map<string, { principal: Principal | null; until: number }>()

export async function principalFromKey(env: Env, secret: string): Promise<Principal | null> {
  if (env.CAIRN_ADMIN_KEY && (await equalSecrets(secret, env.CAIRN_ADMIN_KEY))) {
    return {
      keyId: BOOTSTRAP_KEY_ID,
      name: BOOTSTRAP_NAME,
      role: 'admin',
      via: 'key',
    }
  }
  const hash = await sha256Hex(secret)
  const hit = keyCache.get(hash)
  if (hit && hit.until > Date.now()) return hit.principal
  const [row] = await drizzle(env.DB)
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)))
  const principal = row
    ? { keyId: row.id, name: row.name, role: row.role, via: 'key' as const }
    : null
  if (keyCache.size > 1_000) keyCache.clear()
  keyCache.set(hash, { principal, until: Date.now() + KEY_CACHE_MS })
  return principal
}

export async function principalFromSession(env: Env, token: string): Promise<Principal | null> {
  const [row] = await drizzle(env.DB)
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.tokenHash, await sha256Hex(token)),
        gt(sessions.expiresAt, new Date().toISOString()),
      ),
    )
  if (!row) return null
  const name = await validKeyName(env, row)
  if (name === null) return null
  return { keyId: row.keyId, name, role: row.role, via: 'session', csrfToken: row.csrfToken }
}

/**
 * A session lasts only while the very key it was made with is valid: a revoked key ends its
 * sessions, and so does a changed CAIRN_ADMIN_KEY (the session holds the hash of the key it
 * was made with, compared on every request). A bootstrap session from before the hash was
 * kept cannot prove its key and has ended.
 */
async function validKeyName(
  env: Env,
  session: Pick<typeof sessions.$inferSelect, 'keyId' | 'keyHash'>,
): Promise<string | null> {
  if (session.keyId === BOOTSTRAP_KEY_ID) {
    if (!env.CAIRN_ADMIN_KEY || !session.keyHash) return null
    const current = await sha256Hex(env.CAIRN_ADMIN_KEY)
    return (await equalSecrets(session.keyHash, current)) ? BOOTSTRAP_NAME : null
  }
  const [row] = await drizzle(env.DB)
    .select({ name: apiKeys.name, keyHash: apiKeys.keyHash })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, session.keyId), isNull(apiKeys.revokedAt)))
  if (!row) return null
  if (session.keyHash && session.keyHash !== row.keyHash) return null
  return row.name
}

export function forgetKeys() {
  keyCache.clear()
}
