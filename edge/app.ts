import { OpenAPIHono } from '@hono/zod-openapi'
import { secureHeaders } from 'hono/secure-headers'
import { ApiError, errorResponse, validationError } from './errors'
import type { Env } from './env'
import { authorize } from './middleware/auth'
import { jsonLimits } from './middleware/json-limits'
import { attributionRoutes } from './routes/attribution'
import { auditRoutes } from './routes/audit'
import { consentRoutes } from './routes/consent'
import { contactRoutes } from './routes/contacts'
import { demoRoutes } from './routes/demo'
import { ingestRoutes } from './routes/ingest'
import { insightRoutes } from './routes/insights'
import { metaRoutes } from './routes/meta'
import { privacyRoutes } from './routes/privacy'
import { keyRoutes } from './routes/keys'
import { sessionRoutes } from './routes/session'
import { sourceRoutes } from './routes/sources'

/** Management requests are small; path uploads to /api/attribution/analyze are the largest. */
const MAX_API_BODY_BYTES = 6 * 1024 * 1024

/** Composes the Worker's HTTP surface; each route module owns its schemas and handlers. */
export function createApp() {
  const app = new OpenAPIHono<{ Bindings: Env }>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues)
    },
  })
  app.use('/api/*', secureHeaders(), jsonLimits({ maxBytes: MAX_API_BODY_BYTES }), authorize())
  app.route('/', metaRoutes())
  app.route('/', ingestRoutes())
  app.route('/', demoRoutes())
  for (const routes of [
    sessionRoutes(),
    keyRoutes(),
    sourceRoutes(),
    contactRoutes(),
    consentRoutes(),
    insightRoutes(),
    attributionRoutes(),
    privacyRoutes(),
    auditRoutes(),
  ]) {
    app.route('/api', routes)
  }

  app.openAPIRegistry.registerComponent('securitySchemes', 'secretKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'A secret key; its role decides which routes it may use',
  })
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Cairn API',
      version: '0.1.0',
      description: 'Segment-compatible ingestion (/v1) and the management API (/api)',
    },
  })

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, 'not_found', `No route ${c.req.method} ${c.req.path}`)),
  )
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error)
    if (error instanceof SyntaxError && c.req.header('Content-Type')?.includes('json')) {
      return errorResponse(
        c,
        new ApiError(400, 'invalid_json', 'The request body is not valid JSON'),
      )
    }
    console.error(error)
    return errorResponse(c, new ApiError(500, 'internal', 'Internal error'))
  })
  return app
}
