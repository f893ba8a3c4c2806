import { OpenAPIHono } from '@hono/zod-openapi'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { ApiError, errorResponse, validationError } from './errors'
import type { Env } from './env'
import { authorize } from './middleware/auth'
import { requestBodies } from './middleware/json-limits'
import { attributionRoutes } from './routes/attribution'
import { auditRoutes } from './routes/audit'
import { catalogRoutes } from './routes/catalog'
import { consentRoutes } from './routes/consent'
import { contactRoutes } from './routes/contacts'
import { demoRoutes } from './routes/demo'
import { emailWebhookRoutes } from './routes/email-webhooks'
import { ingestRoutes } from './routes/ingest'
import { insightRoutes } from './routes/insights'
import { kpiRoutes } from './routes/kpis'
import { journeyIntegrationRoutes } from './routes/journey-integrations'
import { journeyRoutes } from './routes/journeys'
import { journeyLibraryRoutes } from './routes/journeys-library'
import { metaRoutes } from './routes/meta'
import { describeApi } from './routes/openapi'
import { predictionRoutes } from './routes/predictions'
import { privacyRoutes } from './routes/privacy'
import { keyRoutes } from './routes/keys'
import { listRoutes } from './routes/lists'
import { messagingProviderRoutes } from './routes/messaging-providers'
import { messageRoutes } from './routes/messages'
import { segmentRoutes } from './routes/segments'
import { sessionRoutes } from './routes/session'
import { sourceRoutes } from './routes/sources'
import { spendRoutes } from './routes/spend'
import { subjectSuggestionRoutes } from './routes/subject-suggestions'
import { templateRoutes } from './routes/templates'
import { unsubscribeRoutes } from './routes/unsubscribe'

/**
 * Management requests are small: a configuration at every bound (see attribution/config.ts,
 * routes/sources.ts, routes/keys.ts) fits well inside this.
 */
export const MAX_API_BODY_BYTES = 256 * 1024
/** Aggregated paths or purchase summaries from elsewhere, the large bodies of the management API. */
export const MAX_PATH_UPLOAD_BYTES = 6 * 1024 * 1024
/** Imported marketing spend (contracts/kpis.ts SPEND_LIMITS). */
export const MAX_SPEND_UPLOAD_BYTES = 2 * 1024 * 1024
const LARGE_BODIES: Record<string, number> = {
  'POST /api/attribution/analyze': MAX_PATH_UPLOAD_BYTES,
  'POST /api/predictions/fit': MAX_PATH_UPLOAD_BYTES,
  // SPEND_LIMITS.rows rows of JSON, a campaign name or two beside each in a CSV export.
  'POST /api/spend': MAX_SPEND_UPLOAD_BYTES,
}

/** The code of an error Hono itself raises (a validator's 400, a media type gate's 415). */
const HTTP_ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
}

/** Composes the Worker's HTTP surface; each route module owns its schemas and handlers. */
export function createApp() {
  const app = new OpenAPIHono<{ Bindings: Env }>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues)
    },
  })
  const bodies = requestBodies({
    maxBytes: MAX_API_BODY_BYTES,
    larger: LARGE_BODIES,
    definitions: () => app.openAPIRegistry.definitions,
  })
  // Who asks comes before what they sent: a caller without a key learns nothing of a route's
  // body, and a DELETE that takes one still answers 401/403 without it.
  app.use('/api/*', secureHeaders(), authorize(), bodies)
  app.route('/', metaRoutes())
  app.route('/', ingestRoutes())
  app.route('/', demoRoutes())
  app.route('/', emailWebhookRoutes())
  app.route('/', unsubscribeRoutes())
  for (const routes of [
    sessionRoutes(),
    keyRoutes(),
    sourceRoutes(),
    contactRoutes(),
    consentRoutes(),
    insightRoutes(),
    kpiRoutes(),
    spendRoutes(),
    attributionRoutes(),
    segmentRoutes(),
    catalogRoutes(),
    listRoutes(),
    // Before journeyRoutes: /journeys/{id} would take /journeys/ticketing.
    journeyIntegrationRoutes(),
    journeyLibraryRoutes(),
    journeyRoutes(),
    messagingProviderRoutes(),
    messageRoutes(),
    templateRoutes(),
    subjectSuggestionRoutes(),
    predictionRoutes(),
    privacyRoutes(),
    auditRoutes(),
  ]) {
    app.route('/api', routes)
  }

  describeApi(app)

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, 'not_found', `No route ${c.req.method} ${c.req.path}`)),
  )
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error)
    if (error instanceof HTTPException && error.status < 500) {
      const code = HTTP_ERROR_CODES[error.status] ?? 'bad_request'
      return errorResponse(c, new ApiError(error.status, code, error.message))
    }
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
