import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { drizzle } from 'drizzle-orm/d1'
import { desc, eq, sql } from 'drizzle-orm'
import { contactStub, resolveContact } from '../../durable/contact-client'
import { randomToken } from '../access/secrets'
import { insertBelowLimit } from '../db/bounded-insert'
import { LIST_MEMBERS, memberPage } from '../db/member-page'
import { listMembers, lists } from '../db/schema'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

/**
 * Manual lists (`{ "list": id }` segment rules). Membership lives in each contact's object, which
 * records the change in its timeline and re-evaluates its segments; list_members in D1 follows.
 */
export const LIST_LIMITS = {
  lists: 1_000,
  nameChars: 100,
  /** Contacts one request adds or removes: each is a call to its object. */
  contactIds: 1_000,
} as const

/** Contact objects called at once by one request. */
const CONCURRENT_CONTACTS = 20

const ListSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    count: z.number().int().openapi({ description: 'Members now' }),
  })
  .openapi('List')

const CreateListSchema = z
  .object({ name: z.string().trim().min(1).max(LIST_LIMITS.nameChars) })
  .openapi('CreateList')

const MembersChangeSchema = z
  .object({
    contactIds: z
      .array(
        z
          .string()
          .min(1)
          .max(300)
          .openapi({ description: 'userId, or anon:<anonymousId>', example: 'user-42' }),
      )
      .min(1)
      .max(LIST_LIMITS.contactIds),
  })
  .openapi('ListMembersChange')

const MembersChangedSchema = z
  .object({
    changed: z
      .number()
      .int()
      .openapi({ description: 'Contacts put on the list or taken off (not those already so)' }),
    notFound: z.array(z.string()).openapi({ description: 'Ids that name no contact' }),
  })
  .openapi('ListMembersChanged')

const MemberSchema = z.object({ contactKey: z.string(), addedAt: z.string() }).openapi('ListMember')

const IdParam = z.object({ id: z.string().min(1).max(100) })

export function listRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/lists',
      tags: ['lists'],
      summary: 'List manual lists with their member counts',
      responses: {
        200: json(z.object({ items: z.array(ListSchema), cursor: z.null() }), 'All lists'),
        ...authErrors,
      },
    }),
    async (c) => {
      const items = await drizzle(c.env.DB)
        .select({
          id: lists.id,
          name: lists.name,
          createdAt: lists.createdAt,
          count: sql<number>`(SELECT COUNT(*) FROM ${listMembers}
            WHERE ${listMembers.listId} = ${lists.id})`,
        })
        .from(lists)
        .orderBy(desc(lists.createdAt), desc(lists.id))
      return c.json({ items, cursor: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/lists',
      tags: ['lists'],
      summary: 'Create a manual list',
      request: {
        body: { content: { 'application/json': { schema: CreateListSchema } }, required: true },
      },
      responses: {
        201: json(ListSchema, 'The new list, empty'),
        ...authErrors,
        409: json(ErrorSchema, `Already ${LIST_LIMITS.lists} lists (limit_reached)`),
      },
    }),
    async (c) => {
      const list = {
        id: `list_${randomToken(12)}`,
        name: c.req.valid('json').name,
        createdAt: new Date().toISOString(),
      }
      await insertBelowLimit(c.env.DB, {
        table: 'lists',
        row: { id: list.id, name: list.name, created_at: list.createdAt },
        limit: LIST_LIMITS.lists,
        full: `There are already ${LIST_LIMITS.lists} lists, the limit`,
      })
      return c.json({ ...list, count: 0 }, 201)
    },
  )

  for (const method of ['post', 'delete'] as const) {
    const member = method === 'post'
    app.openapi(
      createRoute({
        method,
        path: '/lists/{id}/members',
        tags: ['lists'],
        summary: member
          ? 'Add contacts to a list; segments reading it follow'
          : 'Remove contacts from a list; segments reading it follow',
        request: {
          params: IdParam,
          body: {
            content: { 'application/json': { schema: MembersChangeSchema } },
            required: true,
          },
        },
        responses: {
          200: json(MembersChangedSchema, 'How many were set, and the ids of no contact'),
          ...authErrors,
          ...notFound,
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param')
        const { contactIds } = c.req.valid('json')
        await existingList(c.env.DB, id)
        const result = await setMembership(c.env, id, contactIds, member)
        // Counts only: the ids name people, and the audit log outlives their erasure.
        c.set('auditDetail', {
          list: id,
          requested: contactIds.length,
          changed: result.changed,
          notFound: result.notFound.length,
        })
        return c.json(result, 200)
      },
    )
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/lists/{id}/members',
      tags: ['lists'],
      summary: "A list's members as the contacts last reported them",
      request: { params: IdParam, query: PageQuerySchema },
      responses: {
        200: json(listOf(MemberSchema, 'ListMemberList'), 'Members, by contact key'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { limit, cursor } = c.req.valid('query')
      c.set('auditDetail', { list: id, limit, cursor: cursor !== undefined })
      await existingList(c.env.DB, id)
      const page = await memberPage(
        c.env.DB,
        LIST_MEMBERS,
        id,
        { limit, cursor },
        ({ contactKey, since }) => ({ contactKey, addedAt: since }),
      )
      c.set('auditDetail', {
        list: id,
        limit,
        cursor: cursor !== undefined,
        returned: page.items.length,
      })
      return c.json(page, 200)
    },
  )
  return app
}

async function existingList(db: D1Database, id: string) {
  const [row] = await drizzle(db).select({ id: lists.id }).from(lists).where(eq(lists.id, id))
  if (!row) throw new ApiError(404, 'not_found', `No list ${id}`)
}

/**
 * Each id's contact (merged anonymous ids followed to the contact that holds them) is put on the
 * list or taken off by its object. Ids that name the same contact count it once.
 */
async function setMembership(env: Env, listId: string, ids: string[], member: boolean) {
  const unique = [...new Set(ids)]
  const results: ({ key: string; changed: boolean } | null)[] = []
  for (let i = 0; i < unique.length; i += CONCURRENT_CONTACTS) {
    results.push(
      ...(await Promise.all(
        unique.slice(i, i + CONCURRENT_CONTACTS).map(async (id) => {
          const key = await resolveContact(env, id)
          if (key === null) return null
          const result = await contactStub(env, key).setList(key, listId, member)
          return result.found ? { key, changed: result.changed } : null
        }),
      )),
    )
  }
  return {
    changed: new Set(results.flatMap((r) => (r?.changed ? [r.key] : []))).size,
    notFound: unique.filter((_, i) => results[i] === null),
  }
}
