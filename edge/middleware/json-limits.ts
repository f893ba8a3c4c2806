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

/** Body size and JSON depth limits for a group of routes. */
export function jsonLimits({ maxBytes }: { maxBytes: number }): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `Request body exceeds ${maxBytes} bytes`)
    },
  })
  return async function jsonLimitsMiddleware(c, next) {
    return limit(c, async () => {
      if (c.req.header('Content-Type')?.includes('json')) assertJsonDepth(await c.req.text())
      await next()
    })
  }
}
