import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { JourneyDefinitionSchema } from '../../contracts/journey'
import { JOURNEY_TEMPLATES } from '../../domain/journeys/templates'
import type { Env } from '../env'
import { authErrors, json } from './common'

/**
 * The journey template library as `POST /api/journeys {name, template}` takes it: each template
 * with what creating a journey from it makes (version 1 with its definition, and the email
 * templates and segments it names that do not exist yet), so a marketer can choose knowingly.
 */

const LibraryTemplateSchema = z
  .object({
    id: z.string().openapi({ example: 'abandoned-cart' }),
    name: z.string().openapi({ example: 'Abandoned cart' }),
    description: z.string(),
    definition: JourneyDefinitionSchema.openapi({
      description: 'Saved as version 1 of the new journey',
    }),
    creates: z
      .object({
        emailTemplates: z.array(
          z.object({
            id: z.string(),
            name: z.string(),
            subject: z.string(),
            kind: z.enum(['marketing', 'transactional']),
          }),
        ),
        segments: z.array(z.object({ id: z.string(), name: z.string() })),
      })
      .openapi({ description: 'Made when missing; an existing one of the same id is kept' }),
  })
  .openapi('JourneyLibraryTemplate')

const ITEMS = Object.values(JOURNEY_TEMPLATES).map((template) => ({
  id: template.id,
  name: template.name,
  description: template.description,
  definition: template.definition,
  creates: {
    emailTemplates: template.emailTemplates.map(({ id, name, subject, kind }) => ({
      id,
      name,
      subject,
      kind,
    })),
    segments: template.segments.map(({ id, name }) => ({ id, name })),
  },
}))

export function journeyLibraryRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journey-library',
      tags: ['journeys'],
      summary: 'The templates a journey can be created from, and what each creates',
      responses: {
        200: json(z.object({ items: z.array(LibraryTemplateSchema) }), 'Every template'),
        ...authErrors,
      },
    }),
    (c) => c.json({ items: ITEMS }, 200),
  )

  return app
}
