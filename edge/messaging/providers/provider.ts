import type { OutgoingEmail, ProviderKind, ProviderResult } from '../../../contracts/messaging'

/** One email provider, as the send consumer uses it: every failure is answered, none thrown. */
export interface EmailProvider {
  kind: ProviderKind
  send(email: OutgoingEmail): Promise<ProviderResult>
}

export interface ProviderDeps {
  /** The network: the global fetch in production, a fake in tests. */
  fetch: typeof fetch
  db: D1Database
  /** The contact the message is for: the log provider keeps it with its copy. */
  contactKey: string
  /** How long a provider may take to answer; DEFAULT_TIMEOUT_MS when not given. */
  timeoutMs?: number
}

export const DEFAULT_TIMEOUT_MS = 10_000

/** Provider reasons are kept to this length in attempts: they are for people, not parsers. */
const MAX_REASON_CHARS = 300

export type Failure = 'retryable' | 'permanent'

/**
 * What a failed answer means when the provider's body says nothing more precise. 408, 429 and
 * 5xx are the provider's trouble, so another provider may send the message. 401 and 403 are too:
 * rejected credentials or a suspended account say nothing about the message, and the next
 * provider should take over while the circuit of this one opens. Every other 4xx refuses the
 * message itself (a bad address, a bad field), which another provider would refuse as well.
 */
export function failureOf(status: number): Failure {
  if (status === 408 || status === 429 || status >= 500) return 'retryable'
  if (status === 401 || status === 403) return 'retryable'
  return 'permanent'
}

export interface ProviderCall {
  /** The provider as error messages name it. */
  name: string
  request: () => Request | Promise<Request>
  /** The credentials: never part of an error message, whatever the provider echoes. */
  secrets: readonly string[]
  fetch: typeof fetch
  timeoutMs?: number
  /** The provider's id of an accepted message. */
  accepted(response: Response): Promise<string | undefined>
  /** The provider's reason for a refusal, from its answer, and its verdict when it gives one. */
  explain(status: number, body: unknown, headers: Headers): { reason?: string; failure?: Failure }
}

/**
 * One request to a provider's API, classified: 2xx sent; otherwise as `explain` or failureOf
 * says; no answer within the timeout, or none at all (the network), retryable. The timeout races
 * the fetch too, so a fetch that ignores its abort signal cannot hold a send for ever.
 */
export async function callProvider(call: ProviderCall): Promise<ProviderResult> {
  const timeoutMs = call.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signal = AbortSignal.timeout(timeoutMs)
  const timedOut = new Promise<null>((resolve) =>
    signal.addEventListener('abort', () => resolve(null), { once: true }),
  )
  const noAnswer = {
    ok: false,
    retryable: true,
    error: `${call.name}: no answer in ${timeoutMs} ms`,
  } as const
  let response: Response | null
  // Called as a plain function: the runtime's fetch refuses to run as `call`'s method.
  const send = call.fetch
  try {
    response = await Promise.race([send(await call.request(), { signal }), timedOut])
  } catch (error) {
    if (signal.aborted) return noAnswer
    const detail = error instanceof Error ? error.message : String(error)
    return { ok: false, retryable: true, error: redact(`${call.name}: ${detail}`, call.secrets) }
  }
  if (response === null) return noAnswer
  const httpStatus = response.status
  if (response.ok) {
    // Accepted is accepted: an id that cannot be read in time never turns the send into a failure.
    const id = await Promise.race([call.accepted(response).catch(() => undefined), timedOut])
    return id ? { ok: true, providerMessageId: id, httpStatus } : { ok: true, httpStatus }
  }
  const body = await Promise.race([bodyOf(response), timedOut])
  const { reason, failure = failureOf(httpStatus) } = call.explain(
    httpStatus,
    body,
    response.headers,
  )
  const error = reason
    ? `${call.name} answered ${httpStatus}: ${reason}`
    : `${call.name} answered ${httpStatus}`
  return {
    ok: false,
    retryable: failure === 'retryable',
    httpStatus,
    error: redact(error, call.secrets).slice(0, MAX_REASON_CHARS),
  }
}

/** JSON when it is JSON, else the text; null when it cannot be read. */
async function bodyOf(response: Response): Promise<unknown> {
  try {
    const text = await response.text()
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  } catch {
    return null
  }
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce(
    (out, secret) => (secret.length > 0 ? out.replaceAll(secret, '[redacted]') : out),
    text,
  )
}

/** A field of a JSON body, when the body is an object and the field a string or a number. */
export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const value = (body as Record<string, unknown>)[name]
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined
}

/** `{base}{path}`, whether or not the configured base ends with a slash. */
export function endpoint(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`
}

/** A JSON POST. */
export function postJson(url: string, headers: Record<string, string>, body: unknown): Request {
  return new Request(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}
