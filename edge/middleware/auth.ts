import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { allowed, matchRoute, PERSONAL_DATA_READS, type RouteKey } from '../access/permissions'
import { principalFromKey, principalFromSession, type Principal } from '../access/principal'
import { appendAudit, subjectHash } from '../audit/log'
import { ApiError } from '../errors'
import type { Identifier } from '../privacy/identifiers'
import type { Env } from '../env'

export const SESSION_COOKIE = 'cairn_session'
export const CSRF_HEADER = 'X-CSRF-Token'

declare module 'hono' {
  interface ContextVariableMap {
    principal: Principal
    route: { key: RouteKey; params: string[] }
    /**
     * Set by a handler whose subject is not in the path: a contact key, or an identifier (an
     * erasure names one in the body).
     */
    auditSubject: string | Identifier
    auditDetail: Record<string, unknown>
  }
}

/** `/api` routes anyone may call: logging in, and the API description. */
const PUBLIC = new Set(['POST /api/session', 'GET /api/openapi.json'])
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Authenticates every `/api` request (bearer key or console session), checks it against the
 * permission table, and appends management actions and personal-data reads to the audit log
 * before the response leaves. Routes missing from the table answer 404: nothing is reachable
 * by accident.
 */
export function authorize(): MiddlewareHandler<{ Bindings: Env }> {
  return async function authorizeRequest(c, next) {
    const method = c.req.method
    if (PUBLIC.has(`${method} ${c.req.path}`) || method === 'OPTIONS') return next()
    const route = matchRoute(method, c.req.path)
    if (!route) throw new ApiError(404, 'not_found', `No route ${method} ${c.req.path}`)
    const principal = await authenticate(c)
    if (principal.via === 'session' && !SAFE_METHODS.has(method)) {
      if (c.req.header(CSRF_HEADER) !== principal.csrfToken) {
        throw new ApiError(403, 'csrf_failed', `Send the session's CSRF token in ${CSRF_HEADER}`)
      }
    }
    if (!allowed(route.key, principal.role)) {
      throw new ApiError(403, 'forbidden', `The ${principal.role} role may not use ${route.key}`)
    }
    c.set('principal', principal)
    c.set('route', route)
    await next()
    if (method !== 'GET' || PERSONAL_DATA_READS.has(route.key)) await audit(c, principal, route)
  }
}

async function authenticate(c: Context<{ Bindings: Env }>): Promise<Principal> {
  const bearer = c.req
    .header('Authorization')
    ?.match(/^Bearer\s+(.+)$/i)?.[1]
    ?.trim()
  if (bearer) {
    const principal = await principalFromKey(c.env, bearer)
    if (!principal) throw new ApiError(401, 'invalid_key', 'Unknown or revoked key')
    return principal
  }
  const session = getCookie(c, SESSION_COOKIE)
  if (session) {
    const principal = await principalFromSession(c.env, session)
    if (!principal)
      throw new ApiError(401, 'session_expired', 'The session has ended; log in again')
    return principal
  }
  throw new ApiError(
    401,
    'missing_key',
    'Send a secret key as "Authorization: Bearer <key>" or log in',
  )
}

async function audit(
  c: Context<{ Bindings: Env }>,
  principal: Principal,
  route: { key: RouteKey; params: string[] },
) {
  const subject = c.get('auditSubject') ?? subjectOf(route)
  await appendAudit(c.env, [
    {
      actorKeyId: principal.keyId,
      actorRole: principal.role,
      action: route.key,
      subjectHash: subject ? await subjectHash(c.env, subject) : null,
      status: c.res.status,
      detail: c.get('auditDetail') ?? null,
    },
  ])
}

/** Contact routes name their subject in the path. */
function subjectOf(route: { key: RouteKey; params: string[] }): string | undefined {
  if (
    route.key.startsWith('GET /api/contacts/{id}') ||
    route.key.startsWith('POST /api/contacts/{id}')
  ) {
    return route.params[0]
  }
  if (route.key === 'GET /api/privacy/export/{contactId}') return route.params[0]
  return undefined
}
