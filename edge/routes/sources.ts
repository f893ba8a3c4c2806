import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { desc, eq } from 'drizzle-orm'
import { sources } from '../db/schema'
import type { Env } from '../env'
import { insertBelowLimit } from '../db/bounded-insert'
import { ApiError, ErrorSchema } from '../errors'
import { randomToken } from '../access/secrets'
import { forgetSources } from '../ingest/sources'
import { authErrors, json, notFound } from './common'

/**
 * Bounds of sources. Preflights check an origin against every enabled source's list, and each
 * ingest request against its own source's, so the number of sources and origins is capped.
 */
export const SOURCE_LIMITS = {
  sources: 1_000,
  nameChars: 100,
  origins: 100,
  originChars: 255,
} as const

const OriginSchema = z
  .string()
  .max(SOURCE_LIMITS.originChars)
  // Spelled without the `i` flag, which the document generator would print into the pattern.
  .regex(
    /^(\*|[hH][tT][tT][pP][sS]?:\/\/(\*\.)?[a-zA-Z0-9.-]+(:\d+)?)$/,
    'must look like https://shop.example.com',
  )
  .openapi({ example: 'https://shop.example.com' })

const SourceSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    writeKey: z.string(),
    allowedOrigins: z.array(z.string()),
    consentMode: z.enum(['opt-in', 'opt-out']),
    enabled: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('Source')

const CreateSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(SOURCE_LIMITS.nameChars),
    allowedOrigins: z.array(OriginSchema).max(SOURCE_LIMITS.origins).default([]),
    consentMode: z.enum(['opt-in', 'opt-out']).default('opt-out'),
  })
  .openapi('CreateSource')

const UpdateSourceSchema = z
  .object({
    name: z.string().trim().min(1).max(SOURCE_LIMITS.nameChars).optional(),
    allowedOrigins: z.array(OriginSchema).max(SOURCE_LIMITS.origins).optional(),
    consentMode: z.enum(['opt-in', 'opt-out']).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((input) => Object.keys(input).length > 0, 'name at least one field to change')
  .openapi('UpdateSource')

const IdParam = z.object({ id: z.string().min(1).max(100) })

export function sourceRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sources',
      tags: ['sources'],
      summary: 'List sources with their write keys, allowed origins and consent modes',
      responses: {
        200: json(z.object({ items: z.array(SourceSchema), cursor: z.null() }), 'All sources'),
        ...authErrors,
      },
    }),
    async (c) => {
      const items = await drizzle(c.env.DB).select().from(sources).orderBy(desc(sources.createdAt))
      return c.json({ items, cursor: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/sources',
      tags: ['sources'],
      summary: 'Create a source (a site or app) and its write key',
      request: {
        body: { content: { 'application/json': { schema: CreateSourceSchema } }, required: true },
      },
      responses: {
        201: json(SourceSchema, 'The new source with its write key'),
        ...authErrors,
        409: json(ErrorSchema, `Already ${SOURCE_LIMITS.sources} sources (limit_reached)`),
      },
    }),
    async (c) => {
      const source = {
        id: `src_${randomToken(12)}`,
        writeKey: `wk_${randomToken(24)}`,
        enabled: true,
        createdAt: new Date().toISOString(),
        ...c.req.valid('json'),
      }
      await insertBelowLimit(c.env.DB, {
        table: 'sources',
        row: {
          id: source.id,
          name: source.name,
          write_key: source.writeKey,
          allowed_origins: JSON.stringify(source.allowedOrigins),
          consent_mode: source.consentMode,
          enabled: 1,
          created_at: source.createdAt,
        },
        limit: SOURCE_LIMITS.sources,
        full: `There are already ${SOURCE_LIMITS.sources} sources, the limit; disable and reuse one`,
      })
      forgetSources()
      return c.json(source, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/sources/{id}',
      tags: ['sources'],
      summary: 'Rename, change origins or consent mode, enable or disable a source',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: UpdateSourceSchema } }, required: true },
      },
      responses: { 200: json(SourceSchema, 'The updated source'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const changes = c.req.valid('json')
      const [source] = await drizzle(c.env.DB)
        .update(sources)
        .set(changes)
        .where(eq(sources.id, id))
        .returning()
      if (!source) throw new ApiError(404, 'not_found', `No source ${id}`)
      forgetSources()
      return c.json(source, 200)
    },
  )
  return app
}
