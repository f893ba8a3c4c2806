import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from '@hono/zod-openapi'

/**
 * The one error shape of every Cairn response: `{ error: { code, message, details? } }`.
 * Code deeper in the stack returns or throws `ApiError` values; only the edge turns them into
 * HTTP responses, so every route answers errors the same way.
 */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

export function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } }
}

export function errorResponse(c: Context, error: ApiError) {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value)
  return c.json(errorBody(error.code, error.message, error.details), error.status)
}

/** Turns zod issues into a list a client can act on: which field, what was wrong. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]) {
  return issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }))
}

export function validationError(issues: readonly z.core.$ZodIssue[], what = 'request') {
  const described = describeIssues(issues)
  const first = described[0]
  const message = first ? `Invalid ${what}: ${first.path}: ${first.message}` : `Invalid ${what}`
  return new ApiError(400, 'invalid_request', message, { issues: described })
}

export const errorResponses = {
  400: { description: 'Invalid input', content: { 'application/json': { schema: ErrorSchema } } },
  401: {
    description: 'Missing or unknown key',
    content: { 'application/json': { schema: ErrorSchema } },
  },
  404: { description: 'Not found', content: { 'application/json': { schema: ErrorSchema } } },
} as const
