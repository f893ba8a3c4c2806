/**
 * The one way the console talks to the server: JSON over `/api`, the session cookie sent by the
 * browser, and the session's CSRF token on every unsafe request. Errors arrive as `ApiError`
 * values carrying the API's `{ error: { code, message, details } }`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  query?: Query
  body?: unknown
  /** A body sent as it is, such as CSV, instead of `body` as JSON. */
  text?: { content: string; type: string }
}

export interface ApiList<T> {
  items: T[]
  cursor: string | null
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/** Kept in memory only; after a reload the session model asks GET /api/session again. */
let csrfToken = ''
let sessionEnded: (error: ApiError) => void = () => {}

export function setCsrfToken(token: string) {
  csrfToken = token
}

/** Called when a request answers 401 while logged in: the session has ended. */
export function onSessionEnded(handler: (error: ApiError) => void) {
  sessionEnded = handler
}

export function apiUrl(path: string, query?: Query): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const search = params.toString()
  return `/api${path}${search ? `?${search}` : ''}`
}

/** Path segment for a contact key (`user-42`, `anon:abc`), which may hold any character. */
export function segment(value: string) {
  return encodeURIComponent(value)
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? 'GET'
  const headers: Record<string, string> = { Accept: 'application/json' }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  if (options.text !== undefined) headers['Content-Type'] = options.text.type
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken
  let response: Response
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      body:
        options.text?.content ??
        (options.body === undefined ? undefined : JSON.stringify(options.body)),
    })
  } catch (error) {
    throw new ApiError(0, 'network', `The server could not be reached (${String(error)})`)
  }
  if (!response.ok) throw await errorOf(response, path)
  return response
}

async function errorOf(response: Response, path: string): Promise<ApiError> {
  let error: ApiError
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: unknown }
    }
    error = new ApiError(
      response.status,
      body.error?.code ?? `http_${response.status}`,
      body.error?.message ?? response.statusText,
      body.error?.details,
    )
  } catch {
    error = new ApiError(
      response.status,
      `http_${response.status}`,
      `${response.status} ${response.statusText}`.trim(),
    )
  }
  if (response.status === 401 && path !== '/session') sessionEnded(error)
  return error
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

/** A file the server offers as a download (DSAR export): its bytes and suggested name. */
export async function apiDownload(
  path: string,
  fallbackName: string,
): Promise<{ blob: Blob; filename: string }> {
  const response = await send(path, {})
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const filename = /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? fallbackName
  return { blob: await response.blob(), filename }
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  return new ApiError(0, 'client', error instanceof Error ? error.message : String(error))
}
