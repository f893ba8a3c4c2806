import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { and, desc, eq, or, sql } from 'drizzle-orm'
import { ContactSchema, type ContactProfile } from '../../contracts/contact-profile'
import { contactStub } from '../../durable/contact-client'
import { existingContact } from '../contacts/existing-contact'
import { contacts, identities, segmentMembers } from '../db/schema'
import type { Env } from '../env'
import { decodeCursor, encodeCursor, olderThan, pageOf } from '../db/keyset'
import { ApiError } from '../errors'
import { keyHash } from '../privacy/identifiers'
import { segmentExists } from '../segments/store'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

const ContactSummarySchema = z
  .object({
    key: z.string(),
    userId: z.string().nullable(),
    email: z.string().nullable(),
    anonymousIds: z.array(z.string()),
    traits: z.record(z.string(), z.unknown()),
    firstSeen: z.string(),
    lastSeen: z.string(),
    eventCount: z.number().int(),
  })
  .openapi('ContactSummary')

const EventSchema = z
  .looseObject({
    id: z.string(),
    messageId: z.string(),
    type: z.string(),
    event: z.string().optional(),
    name: z.string().optional(),
    userId: z.string().optional(),
    anonymousId: z.string().optional(),
    timestamp: z.string(),
    receivedAt: z.string(),
    properties: z.record(z.string(), z.unknown()).optional(),
    traits: z.record(z.string(), z.unknown()).optional(),
    context: z.record(z.string(), z.unknown()),
    enrichment: z.record(z.string(), z.unknown()),
  })
  .openapi('Event')

const ContactParam = z.object({
  id: z
    .string()
    .min(1)
    .max(300)
    .openapi({ description: 'userId, or anon:<anonymousId>', example: 'user-42' }),
})

const ListQuery = PageQuerySchema.extend({
  q: z.string().trim().max(200).optional().openapi({
    description:
      'text found in the key, email or a trait value (case-insensitive; % and _ match only themselves), or an exact identifier',
  }),
  segment: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: 'segment id: only its members, as the contacts last reported them' }),
})

export function contactRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts',
      tags: ['contacts'],
      summary: 'List contacts, last seen first; search by text or identifier, filter by segment',
      request: { query: ListQuery },
      responses: {
        200: json(listOf(ContactSummarySchema, 'ContactList'), 'Contacts, last seen first'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { q, limit, cursor, segment } = c.req.valid('query')
      // One audit row per list or search names the query and how many contacts it showed. The
      // search text is often a person's email or id, and the log is immutable and outlives
      // erasure, so it holds the text only as the keyed hash that names a contact key there.
      const query = { q: q ? await keyHash(c.env, q) : null, segment: segment ?? null, limit }
      c.set('auditDetail', { ...query, cursor: cursor !== undefined })
      if (segment && !(await segmentExists(c.env.DB, segment))) {
        throw new ApiError(400, 'unknown_segment', `No segment ${segment}`)
      }
      const db = drizzle(c.env.DB)
      const conditions = [sql`${contacts.mergedInto} IS NULL`]
      if (segment) {
        conditions.push(
          sql`${contacts.key} IN (SELECT ${segmentMembers.contactKey} FROM ${segmentMembers}
            WHERE ${segmentMembers.segmentId} = ${segment})`,
        )
      }
      if (q) {
        // LIKE with its wildcards escaped: `%` and `_` in the text match only themselves. Traits
        // match by their values, not the JSON text, so `_`, `"` or `:` do not match every
        // contact that has a trait named first_name.
        const pattern = `%${q.replace(/[%_\\]/g, (ch) => `\\${ch}`)}%`
        conditions.push(
          or(
            eq(contacts.key, q),
            eq(contacts.email, q.toLowerCase()),
            sql`${contacts.key} IN (SELECT contact_key FROM ${identities} WHERE value = ${q})`,
            sql`${contacts.key} LIKE ${pattern} ESCAPE '\\'`,
            sql`${contacts.email} LIKE ${pattern} ESCAPE '\\'`,
            sql`EXISTS (SELECT 1 FROM json_tree(${contacts.traits})
              WHERE type IN ('text', 'integer', 'real') AND atom LIKE ${pattern} ESCAPE '\\')`,
          )!,
        )
      }
      const after = decodeCursor(cursor, ['string', 'string'])
      if (after) conditions.push(olderThan([contacts.lastSeen, contacts.key], after))
      const rows = await db
        .select()
        .from(contacts)
        .where(and(...conditions))
        .orderBy(desc(contacts.lastSeen), desc(contacts.key))
        .limit(limit + 1)
      const summary = (row: (typeof rows)[number]) => ({
        key: row.key,
        userId: row.userId,
        email: row.email,
        anonymousIds: row.anonymousIds,
        traits: row.traits,
        firstSeen: row.firstSeen,
        lastSeen: row.lastSeen,
        eventCount: row.eventCount,
      })
      const page = pageOf(rows, limit, summary, (row) => [row.lastSeen, row.key])
      c.set('auditDetail', { ...query, cursor: cursor !== undefined, returned: page.items.length })
      return c.json(page, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}',
      tags: ['contacts'],
      summary:
        "A contact's profile: traits and their history, identities, groups, consent, counters",
      request: { params: ContactParam },
      responses: {
        200: json(ContactSchema, 'The contact, read live from its Durable Object'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const profile = await readProfile(c.env, c.req.valid('param').id)
      const predictions = await contactStub(c.env, profile.key).predictions()
      const scores = predictions
        ? { engagement: predictions.engagement, churnRisk: predictions.churnRisk }
        : {}
      return c.json({ ...profile, scores }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}/events',
      tags: ['contacts'],
      summary: "A contact's event timeline, newest first",
      request: { params: ContactParam, query: PageQuerySchema },
      responses: {
        200: json(listOf(EventSchema, 'EventList'), 'Timeline, newest first'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const key = await existingContact(c.env, c.req.valid('param').id)
      const { limit, cursor } = c.req.valid('query')
      const after = decodeCursor(cursor, ['number', 'number'])
      const page = await contactStub(c.env, key).timeline({ limit, after })
      c.set('auditDetail', { limit, cursor: cursor !== undefined, returned: page.items.length })
      return c.json({ items: page.items, cursor: page.next && encodeCursor(page.next) }, 200)
    },
  )
  return app
}

async function readProfile(env: Env, id: string): Promise<ContactProfile> {
  const result = await contactStub(env, await existingContact(env, id)).profile()
  if (!result.found) throw new ApiError(404, 'not_found', `No contact ${id}`)
  return result.profile
}
