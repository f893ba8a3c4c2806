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

/**
 * Turns zod issues into a list a client can act on: which field (`rule.all[2].performed`), what
 * was wrong. A value that matches no branch of a union (a segment rule of no known kind, or one
 * missing a field) is described by the branch it came closest to, so the path names the bad part
 * rather than the whole rule.
 */
export function describeIssues(issues: readonly z.core.$ZodIssue[]) {
  return issues
    .flatMap((issue) => closest(issue, []))
    .map(({ path, message }) => ({
      path: formatPath(path) || '(root)',
      message,
    }))
}

function closest(
  issue: z.core.$ZodIssue,
  base: PropertyKey[],
): { path: PropertyKey[]; message: string }[] {
  const path = [...base, ...issue.path]
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // A key no branch knows: the value is of no kind at all, as the union's own message says.
    const foreign = (branch: z.core.$ZodIssue[]) =>
      branch.some((inner) => inner.code === 'unrecognized_keys' && inner.path.length === 0)
    if (issue.errors.every(foreign)) return [{ path, message: issue.message }]
    // A union of plain values (a string or a number) failed as a whole: its own message says it.
    const atRoot = (branch: z.core.$ZodIssue[]) => branch.every((inner) => inner.path.length === 0)
    if (issue.errors.every(atRoot)) return [{ path, message: issue.message }]
    // Fewest problems wins; on a tie the earlier branch, as the union tried them.
    const best = issue.errors.reduce((a, b) => (b.length < a.length ? b : a))
    if (best.length > 0) return best.flatMap((inner) => closest(inner, path))
  }
  const missing = issue.code === 'invalid_type' && / received undefined$/.test(issue.message)
  return [{ path, message: missing ? 'required' : issue.message }]
}

/** `rule.all[2].performed`: names as dotted parts, list positions in brackets. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('')
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
