import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Env } from '../env'
import { CATALOG_BOUNDS, readCatalog } from '../segments/catalog'
import { authErrors, json } from './common'

const JsonTypeSchema = z.enum(['string', 'number', 'boolean', 'array', 'null'])

const PathSchema = {
  path: z.string().openapi({ description: 'Dotted path, as a rule names it', example: 'plan' }),
  types: z.array(JsonTypeSchema).openapi({ description: 'Every JSON type seen at the path' }),
}

const CatalogSchema = z
  .object({
    events: z
      .array(
        z.object({
          name: z.string().openapi({ description: '`$page` for page views', example: 'Signed Up' }),
          count: z.number().int(),
          lastSeen: z.string().openapi({ description: 'The last UTC day it was seen' }),
        }),
      )
      .openapi({
        description: `Event names from the daily rollups of the last ${CATALOG_BOUNDS.eventDays} days (bots and Cairn's own events left out), the most frequent first, at most ${CATALOG_BOUNDS.names}`,
      }),
    traits: z
      .array(
        z.object({
          ...PathSchema,
          seen: z.number().int().openapi({ description: 'Contacts of the sample holding it' }),
        }),
      )
      .openapi({
        description: `Trait paths of the ${CATALOG_BOUNDS.contacts} most recently seen contacts (leaves and lists, not objects), the most common first, at most ${CATALOG_BOUNDS.traits}`,
      }),
    properties: z
      .array(
        z.object({
          event: z.string(),
          ...PathSchema,
          seen: z.number().int().openapi({ description: 'Events of the sample holding it' }),
        }),
      )
      .openapi({
        description: `Property paths per event name, from the ${CATALOG_BOUNDS.events} most recent events, at most ${CATALOG_BOUNDS.properties}`,
      }),
    bounds: z
      .object({
        eventDays: z.number().int(),
        eventsSince: z.string().openapi({ description: 'The first UTC day the names cover' }),
        contacts: z.number().int().openapi({ description: 'Contacts read at most' }),
        contactsRead: z.number().int(),
        events: z.number().int().openapi({ description: 'Events read at most' }),
        eventsRead: z.number().int(),
      })
      .openapi({ description: 'What was read: a rare name or key outside it is not listed' }),
  })
  .openapi('Catalog')

/**
 * What the data holds (event names, trait and property paths), for choosing them in rules.
 * Names and keys only, no values: nothing here is about one person.
 */
export function catalogRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()
  app.openapi(
    createRoute({
      method: 'get',
      path: '/catalog',
      tags: ['segments'],
      summary: 'Event names, trait paths and property paths seen in the data, bounded by recency',
      responses: {
        200: json(CatalogSchema, 'What recent data holds'),
        ...authErrors,
      },
    }),
    async (c) => c.json(await readCatalog(c.env.DB, Date.now()), 200),
  )
  return app
}
