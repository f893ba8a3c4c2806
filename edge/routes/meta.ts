import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Env } from '../env'
import { json } from './common'

export function metaRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags: ['meta'],
      summary: 'Liveness check: the Worker answers',
      security: [],
      responses: {
        200: json(z.object({ ok: z.literal(true), time: z.string() }), 'The worker answers'),
      },
    }),
    (c) => c.json({ ok: true as const, time: new Date().toISOString() }, 200),
  )
  return app
}
