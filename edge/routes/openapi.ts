import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Env } from '../env'
import { CSRF_HEADER, SESSION_COOKIE } from '../middleware/auth'

/** Every tag a route may use; `npm run lint` (redocly.yaml) refuses an operation with another. */
export const TAGS = [
  { name: 'meta', description: 'Health check; this document itself is GET /api/openapi.json' },
  {
    name: 'ingestion',
    description:
      "Segment-compatible tracking from sites, apps and servers, authenticated by a source's write " +
      'key. Each message is accepted or rejected on its own.',
  },
  {
    name: 'session',
    description: 'Console login with a secret key: an HttpOnly session cookie and its CSRF token',
  },
  {
    name: 'keys',
    description: 'Secret keys for this API, each with a role: admin, marketer, analyst, compliance',
  },
  { name: 'sources', description: 'Sites and apps that send events: write keys, allowed origins' },
  { name: 'contacts', description: "Contact profiles and timelines, read from each contact's DO" },
  { name: 'consent', description: 'Consent ledgers, and decisions recorded by staff or imports' },
  { name: 'insights', description: 'Traffic overview and the live event stream' },
  {
    name: 'attribution',
    description: "Conversion definitions, channel rules, and each attribution model's credits",
  },
  {
    name: 'segments',
    description:
      'Segments: rules over traits, events, consent and lists, evaluated in each contact as it changes',
  },
  { name: 'lists', description: 'Manual lists of contacts, which segment rules can read' },
  {
    name: 'messaging',
    description:
      'Email: providers in fallback order with their circuit breakers, templates, messages',
  },
  {
    name: 'journeys',
    description:
      'Journeys: versioned graphs run per contact in real time, with splits, rollback, migration, metrics and a simulator',
  },
  {
    name: 'predictions',
    description:
      'Engagement, BG/NBD churn and Gamma-Gamma CLV: settings, fits, the at-risk list, a contact',
  },
  {
    name: 'privacy',
    description: 'Erasure with receipts, data export (DSAR), suppressions and retention',
  },
  {
    name: 'audit',
    description: 'The hash-chained log of management actions and personal-data reads',
  },
]

const SAFE_METHODS = new Set(['get', 'head', 'options'])

/**
 * What the document says about every operation that its route does not say itself, derived
 * here in one place so that no route can be left without it:
 * - `operationId` from method and path (`GET /api/contacts/{id}/events` →
 *   `getContactsByIdEvents`), the name a generated client gives the call;
 * - for `/api` routes, the credentials `authorize()` (middleware/auth.ts) takes: a secret key,
 *   or the console's session cookie, with its CSRF token on unsafe methods. A route anyone may
 *   call says `security: []` itself, as POST /api/session does.
 * Then serves the document at GET /api/openapi.json. Call once every route is mounted.
 */
export function describeApi(app: OpenAPIHono<{ Bindings: Env }>) {
  const registry = app.openAPIRegistry
  registry.registerComponent('securitySchemes', 'secretKey', {
    type: 'http',
    scheme: 'bearer',
    description: 'A secret key (POST /api/keys); its role decides which routes it may use',
  })
  registry.registerComponent('securitySchemes', 'consoleSession', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The HttpOnly session cookie that logging in (POST /api/session) sets',
  })
  registry.registerComponent('securitySchemes', 'csrfToken', {
    type: 'apiKey',
    in: 'header',
    name: CSRF_HEADER,
    description: "The session's csrfToken, required with the session cookie on unsafe methods",
  })
  for (const definition of registry.definitions) {
    if (definition.type !== 'route') continue
    const route = definition.route
    route.operationId ??= operationId(route.method, route.path)
    if (route.path.startsWith('/api/')) {
      route.security ??= SAFE_METHODS.has(route.method)
        ? [{ secretKey: [] }, { consoleSession: [] }]
        : [{ secretKey: [] }, { consoleSession: [], csrfToken: [] }]
    }
  }
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Cairn API',
      version: '0.1.0',
      description: 'Segment-compatible ingestion (/v1) and the management API (/api)',
    },
    servers: [{ url: '/', description: 'The deployment that serves this document' }],
    tags: TAGS,
  })
}

/** `post /v1/track` → `postV1Track`; `/api` is left out, every management route has it. */
export function operationId(method: string, path: string) {
  const words = path
    .replace(/^\/api\//, '/')
    .split('/')
    .flatMap((segment) => {
      const param = segment.match(/^\{(.+)\}$/)
      return param ? ['by', ...param[1]!.split(/[^A-Za-z0-9]+/)] : segment.split(/[^A-Za-z0-9]+/)
    })
    .filter(Boolean)
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('')
}
