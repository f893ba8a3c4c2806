import { OpenAPIHono } from '@hono/zod-openapi'
import { env } from 'cloudflare:test'
import type { JourneyActionJob } from '../../../contracts/queue-messages'
import type { Env } from '../../env'
import { ApiError, errorResponse, validationError } from '../../errors'
import { journeyIntegrationRoutes } from '../../routes/journey-integrations'

/**
 * Test helpers for journey actions: the integration routes composed as the app composes route
 * modules (validation and errors in the one shape, without the key check, which the permission
 * table's own test covers once the routes are mounted), jobs, and a network of fake receivers.
 */

export function integrations(path: string, init: RequestInit & { json?: unknown } = {}) {
  const app = new OpenAPIHono<{ Bindings: Env }>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues)
    },
  })
  app.route('/api', journeyIntegrationRoutes())
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error)
    throw error
  })
  const headers = new Headers(init.headers)
  if (init.json !== undefined) headers.set('Content-Type', 'application/json')
  const body = init.json !== undefined ? JSON.stringify(init.json) : init.body
  return app.request(path, { ...init, headers, body }, env)
}

let counter = 0

export function actionJob(
  kind: JourneyActionJob['kind'],
  overrides: Partial<JourneyActionJob> = {},
): JourneyActionJob {
  counter += 1
  return {
    kind,
    idempotencyKey: `run-${counter}-${crypto.randomUUID()}:n2`,
    contactKey: `user:ada-${counter}`,
    journeyId: 'j1',
    version: 3,
    runId: `run-${counter}`,
    node: 'n2',
    contact: {
      key: `user:ada-${counter}`,
      email: 'ada@example.com',
      traits: { name: 'Ada', plan: 'pro' },
    },
    event: { event: 'Email Failed', properties: { reason: '<bounced>' } },
    data: { order: 42 },
    ...(kind === 'webhook'
      ? { webhook: { url: 'https://hooks.example.com/cairn', method: 'POST', body: { a: 1 } } }
      : {
          ticket: {
            subject: 'Help {{ contact.traits.name }}',
            body: 'Order {{ data.order }} failed: {{ event.properties.reason }}\nPlease call.',
          },
        }),
    at: '2026-11-20T10:00:00.000Z',
    ...overrides,
  }
}

type Handler = (request: Request) => Response | Promise<Response>

export interface Sent {
  url: string
  method: string
  headers: Headers
  redirect: Request['redirect']
  text: string
}

/** Fake receivers by host; every request is kept. An unknown host fails as the network does. */
export function network(handlers: Record<string, Handler>) {
  const requests: Sent[] = []
  // As strict as the runtime's fetch, which refuses to run as another object's method.
  const fetcher = async function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation')
    const request = new Request(input, init)
    const url = new URL(request.url)
    const text = await request.clone().text()
    requests.push({
      url: request.url,
      method: request.method,
      headers: request.headers,
      redirect: request.redirect,
      text,
    })
    const handler = handlers[url.host]
    if (!handler) throw new TypeError(`fetch failed: no route to ${url.host}`)
    return handler(request)
  } as typeof fetch
  return { fetcher, requests }
}

export const answer =
  (status: number, body: unknown = {}) =>
  () =>
    Response.json(body, { status })

export async function actionRow(id: string) {
  return env.DB.prepare('SELECT * FROM journey_actions WHERE id = ?').bind(id).first<{
    status: string
    attempts: number
    last_error: string | null
    response_status: number | null
    kind: string
    journey_id: string
    version: number
    run_id: string
    node: string
    contact_key: string
  }>()
}
