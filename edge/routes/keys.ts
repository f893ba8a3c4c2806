import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { and, desc, eq, isNull } from 'drizzle-orm'
import { forgetKeys } from '../access/principal'
import { randomToken, sha256Hex } from '../access/secrets'
import { apiKeys, ROLES } from '../db/schema'
import type { Env } from '../env'
import { insertBelowLimit } from '../db/bounded-insert'
import { ApiError, ErrorSchema } from '../errors'
import { authErrors, json, notFound } from './common'

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    prefix: z.string(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey')

/** Bounds of secret keys; the bootstrap key (CAIRN_ADMIN_KEY) is not counted. */
export const KEY_LIMITS = {
  activeKeys: 100,
  nameChars: 100,
} as const

const CreateKeySchema = z
  .object({ name: z.string().trim().min(1).max(KEY_LIMITS.nameChars), role: z.enum(ROLES) })
  .openapi('CreateApiKey')

const NewKeySchema = KeySchema.extend({
  key: z.string().openapi({ description: 'The secret; shown once, stored only as a hash' }),
}).openapi('NewApiKey')

export function keyRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      tags: ['keys'],
      summary: 'List secret keys: names, roles and prefixes, never the secrets',
      responses: {
        200: json(
          z.object({ items: z.array(KeySchema), cursor: z.null() }),
          'Secret keys (without secrets)',
        ),
        ...authErrors,
      },
    }),
    async (c) => {
      const rows = await drizzle(c.env.DB).select().from(apiKeys).orderBy(desc(apiKeys.createdAt))
      return c.json({ items: rows.map(({ keyHash: _hash, ...key }) => key), cursor: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      tags: ['keys'],
      summary: 'Create a secret key with a role; the key is shown only in this answer',
      request: {
        body: { content: { 'application/json': { schema: CreateKeySchema } }, required: true },
      },
      responses: {
        201: json(NewKeySchema, 'The new key; the secret is shown only now'),
        ...authErrors,
        409: json(ErrorSchema, `Already ${KEY_LIMITS.activeKeys} active keys (limit_reached)`),
      },
    }),
    async (c) => {
      const { name, role } = c.req.valid('json')
      const key = `sk_${role}_${randomToken(32)}`
      const row = {
        id: `key_${randomToken(12)}`,
        name,
        role,
        keyHash: await sha256Hex(key),
        prefix: key.slice(0, role.length + 8),
        createdAt: new Date().toISOString(),
        revokedAt: null,
      }
      await insertBelowLimit(c.env.DB, {
        table: 'api_keys',
        row: {
          id: row.id,
          name: row.name,
          role: row.role,
          key_hash: row.keyHash,
          prefix: row.prefix,
          created_at: row.createdAt,
        },
        countedWhere: 'revoked_at IS NULL',
        limit: KEY_LIMITS.activeKeys,
        full: `There are already ${KEY_LIMITS.activeKeys} active keys, the limit; revoke one first`,
      })
      c.set('auditDetail', { keyId: row.id, role })
      const { keyHash: _hash, ...shown } = row
      return c.json({ ...shown, key }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{id}',
      tags: ['keys'],
      summary: 'Revoke a key; its sessions end with it',
      request: { params: z.object({ id: z.string().min(1).max(100) }) },
      responses: { 200: json(KeySchema, 'The revoked key'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const [row] = await drizzle(c.env.DB)
        .update(apiKeys)
        .set({ revokedAt: new Date().toISOString() })
        .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
        .returning()
      if (!row) throw new ApiError(404, 'not_found', `No active key ${id}`)
      forgetKeys()
      c.set('auditDetail', { keyId: id })
      const { keyHash: _hash, ...shown } = row
      return c.json(shown, 200)
    },
  )
  return app
}
