import type { MiddlewareHandler } from 'hono'
import { ApiError } from '../errors'
import type { Env } from '../env'

export type Role = 'admin' | 'marketer' | 'analyst' | 'compliance'

export interface Principal {
  keyId: string
  role: Role
}

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal
  }
}

/**
 * Management API authentication: `Authorization: Bearer <secret key>`. The bootstrap key from
 * the CAIRN_ADMIN_KEY secret is the admin. Keys with other roles arrive with issue #4.
 */
export function requireKey({ roles }: { roles: readonly Role[] }): MiddlewareHandler<{
  Bindings: Env
}> {
  return async function requireKeyMiddleware(c, next) {
    const header = c.req.header('Authorization')
    const token = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim()
    if (!token)
      throw new ApiError(401, 'missing_key', 'Send a secret key as "Authorization: Bearer <key>"')
    const principal = await resolveKey(c.env, token)
    if (!principal) throw new ApiError(401, 'invalid_key', 'Unknown or revoked key')
    if (!roles.includes(principal.role)) {
      throw new ApiError(403, 'forbidden', `The ${principal.role} role may not use this route`)
    }
    c.set('principal', principal)
    await next()
  }
}

async function resolveKey(env: Env, token: string): Promise<Principal | null> {
  if (env.CAIRN_ADMIN_KEY && (await equalSecrets(token, env.CAIRN_ADMIN_KEY))) {
    return { keyId: 'bootstrap', role: 'admin' }
  }
  return null
}

/** Compares digests so the time taken says nothing about how much of the secret matched. */
async function equalSecrets(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder()
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(da, db)
}
