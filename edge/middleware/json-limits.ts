import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ApiError } from '../errors'

/**
 * Deeply nested JSON costs stack and CPU to parse and to walk later; no real client needs more
 * than a few levels, so anything past MAX_JSON_DEPTH is refused before parsing.
 */
export const MAX_JSON_DEPTH = 32

/** Nesting depth of JSON text, counting brackets outside strings; no parse needed. */
export function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 92)
        i++ // backslash escapes the next character
      else if (ch === 34) inString = false
    } else if (ch === 34) inString = true
    else if (ch === 123 || ch === 91) max = Math.max(max, ++depth)
    else if (ch === 125 || ch === 93) depth--
  }
  return max
}

export function assertJsonDepth(text: string) {
  const depth = jsonDepth(text)
  if (depth > MAX_JSON_DEPTH) {
    throw new ApiError(
      400,
      'json_too_deep',
      `JSON nests ${depth} levels; the limit is ${MAX_JSON_DEPTH}`,
    )
  }
}

/** What a route declares about its request body (its OpenAPI `requestBody`), and its size limit. */
export interface DeclaredBody {
  /** The route, as `POST /api/keys`, for error messages. */
  route: string
  /** Media types the route reads, such as `application/json` or `text/csv`. */
  mediaTypes: readonly string[]
  required: boolean
  maxBytes: number
}

/** The OpenAPI registry's entries, as far as request bodies go. */
export interface RouteDefinition {
  type: string
  route?: {
    method: string
    path: string
    request?: { body?: { content: Record<string, unknown>; required?: boolean } }
  }
}

/**
 * The request body each route declares in its OpenAPI definition, found by method and path:
 * the same schemas that document a route decide what its body may be, so a route added later
 * is checked without being listed anywhere else. `maxBytes` is every route's size limit unless
 * `larger` names the route (`POST /api/attribution/analyze`).
 */
export function declaredBodies(
  definitions: readonly RouteDefinition[],
  { maxBytes, larger = {} }: { maxBytes: number; larger?: Record<string, number> },
): (method: string, path: string) => DeclaredBody | null {
  const matchers = definitions.flatMap(({ route }) => {
    const body = route?.request?.body
    if (!route || !body) return []
    const method = route.method.toUpperCase()
    const key = `${method} ${route.path}`
    const pattern = route.path
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+')
    const declared: DeclaredBody = {
      route: key,
      mediaTypes: Object.keys(body.content),
      required: body.required ?? false,
      maxBytes: larger[key] ?? maxBytes,
    }
    return [{ method, regex: new RegExp(`^${pattern}$`), declared }]
  })
  return (method, path) =>
    matchers.find((m) => m.method === method && m.regex.test(path))?.declared ?? null
}

/** `application/json; charset=utf-8` → `application/json`. */
function essence(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase()
}

function isJsonType(type: string): boolean {
  return /^application\/([\w.-]+\+)?json$/.test(type)
}

function accepts(declared: readonly string[], type: string): boolean {
  return declared.some((d) => d === type || (isJsonType(d) && isJsonType(type)))
}

/**
 * Checks every request body before any route reads it: its size (413), that it is there when
 * the route needs one, that its Content-Type is one the route declares (415), and that JSON is
 * well-formed and shallow (400). A route without a declared body gets the size limit only.
 * Every refusal is an ApiError, so it leaves in the one error shape.
 */
export function requestBodies({
  maxBytes,
  larger,
  definitions,
}: {
  /** Every route's size limit, unless `larger` names the route. */
  maxBytes: number
  larger?: Record<string, number>
  /** The app's OpenAPI definitions, read on the first request, once every route is registered. */
  definitions: () => readonly RouteDefinition[]
}): MiddlewareHandler {
  let lookup: ReturnType<typeof declaredBodies> | undefined
  const bodyOf = (method: string, path: string) => {
    lookup ??= declaredBodies(definitions(), { maxBytes, larger })
    return lookup(method, path)
  }
  const limiters = new Map<number, MiddlewareHandler>()
  const limiter = (max: number) => {
    let limit = limiters.get(max)
    if (!limit) {
      limit = bodyLimit({
        maxSize: max,
        onError: () => {
          throw new ApiError(413, 'payload_too_large', `Request body exceeds ${max} bytes`)
        },
      })
      limiters.set(max, limit)
    }
    return limit
  }
  return async function requestBodiesMiddleware(c, next) {
    const declared = bodyOf(c.req.method, c.req.path)
    if (!declared) return limiter(maxBytes)(c, next)
    return limiter(declared.maxBytes)(c, async () => {
      checkBody(await c.req.arrayBuffer(), c.req.header('Content-Type'), declared)
      await next()
    })
  }
}

function checkBody(body: ArrayBuffer, contentType: string | undefined, declared: DeclaredBody) {
  const types = declared.mediaTypes.join(' or ')
  if (body.byteLength === 0) {
    if (!declared.required) return
    throw new ApiError(
      400,
      'invalid_json',
      `The request body is empty; ${declared.route} needs a body (${types})`,
    )
  }
  const type = contentType ? essence(contentType) : ''
  if (!accepts(declared.mediaTypes, type)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      type
        ? `Content-Type ${type} is not accepted by ${declared.route}; send ${types}`
        : `The request body has no Content-Type; send ${types}`,
    )
  }
  if (!isJsonType(type)) return
  const text = new TextDecoder().decode(body)
  assertJsonDepth(text)
  try {
    JSON.parse(text)
  } catch (error) {
    throw new ApiError(
      400,
      'invalid_json',
      `The request body is not valid JSON: ${(error as Error).message}`,
    )
  }
}
