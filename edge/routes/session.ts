import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { drizzle } from 'drizzle-orm/d1'
import { eq } from 'drizzle-orm'
import { principalFromKey } from '../access/principal'
import { randomToken, sha256Hex } from '../access/secrets'
import { appendAudit } from '../audit/log'
import { sessions, ROLES } from '../db/schema'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { SESSION_COOKIE } from '../middleware/auth'
import { authErrors, json } from './common'

/** A console session lasts a working day; then the person logs in again. */
export const SESSION_HOURS = 8

const SessionSchema = z
  .object({
    role: z.enum(ROLES),
    name: z.string(),
    csrfToken: z.string().openapi({ description: 'Send as X-CSRF-Token on every unsafe request' }),
    expiresAt: z.string().nullable(),
  })
  .openapi('Session')

const LoginSchema = z.object({ key: z.string().min(1).max(200) }).openapi('Login')

export function sessionRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/session',
      tags: ['session'],
      summary: 'Log in with a secret key; sets an HttpOnly session cookie',
      security: [],
      request: {
        body: { content: { 'application/json': { schema: LoginSchema } }, required: true },
      },
      responses: {
        200: json(SessionSchema, 'Logged in'),
        ...authErrors,
        429: json(
          z.object({ error: z.object({ code: z.string(), message: z.string() }) }),
          'Too many attempts',
        ),
      },
    }),
    async (c) => {
      const ip = c.req.header('CF-Connecting-IP') ?? 'unknown'
      if (c.env.LOGIN_LIMITER && !(await c.env.LOGIN_LIMITER.limit({ key: ip })).success) {
        throw new ApiError(
          429,
          'rate_limited',
          'Too many login attempts; wait a minute',
          undefined,
          {
            'Retry-After': '60',
          },
        )
      }
      const { key } = c.req.valid('json')
      const principal = await principalFromKey(c.env, key)
      if (!principal) {
        await appendAudit(c.env, [
          {
            actorKeyId: 'unknown',
            actorRole: 'none',
            action: 'POST /api/session',
            subjectHash: null,
            status: 401,
            detail: null,
          },
        ])
        throw new ApiError(401, 'invalid_key', 'Unknown or revoked key')
      }
      const token = randomToken(40)
      const csrfToken = randomToken(32)
      const now = new Date()
      const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString()
      await drizzle(c.env.DB)
        .insert(sessions)
        .values({
          tokenHash: await sha256Hex(token),
          keyId: principal.keyId,
          role: principal.role,
          csrfToken,
          keyHash: await sha256Hex(key),
          createdAt: now.toISOString(),
          expiresAt,
        })
      setCookie(c, SESSION_COOKIE, token, {
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
        maxAge: SESSION_HOURS * 3600,
      })
      await appendAudit(c.env, [
        {
          actorKeyId: principal.keyId,
          actorRole: principal.role,
          action: 'POST /api/session',
          subjectHash: null,
          status: 200,
          detail: null,
        },
      ])
      return c.json({ role: principal.role, name: principal.name, csrfToken, expiresAt }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/session',
      tags: ['session'],
      summary: 'Who is logged in (also answers for bearer keys)',
      responses: { 200: json(SessionSchema, 'The current principal'), ...authErrors },
    }),
    async (c) => {
      const principal = c.get('principal')
      const token = getCookie(c, SESSION_COOKIE)
      const [row] = token
        ? await drizzle(c.env.DB)
            .select()
            .from(sessions)
            .where(eq(sessions.tokenHash, await sha256Hex(token)))
        : []
      return c.json(
        {
          role: principal.role,
          name: principal.name,
          csrfToken: principal.csrfToken ?? '',
          expiresAt: row?.expiresAt ?? null,
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/session',
      tags: ['session'],
      summary: 'Log out',
      responses: { 204: { description: 'Logged out' }, ...authErrors },
    }),
    async (c) => {
      const token = getCookie(c, SESSION_COOKIE)
      if (token)
        await drizzle(c.env.DB)
          .delete(sessions)
          .where(eq(sessions.tokenHash, await sha256Hex(token)))
      deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })
      return c.body(null, 204)
    },
  )
  return app
}
