import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { seeded } from './workload.ts'

/**
 * Two email providers past the network edge, on 127.0.0.1, for the messaging section: a
 * SendGrid that is down (every request answered 503) and a Resend that fails a share of requests
 * with 500 (a seeded draw per request, in arrival order) and accepts the rest. Each speaks its
 * provider's path and checks its credentials; the Resend records every email it accepts under
 * Cairn's message id (the `cairn_message` tag), so the bench can count messages accepted twice,
 * and messages never accepted, exactly.
 */

export const DOWN_PREFIX = '/down'
export const FLAKY_PREFIX = '/flaky'
const SENDGRID_PATH = `${DOWN_PREFIX}/v3/mail/send`
const RESEND_PATH = `${FLAKY_PREFIX}/emails`

export interface FakeProviderOptions {
  /** Share of the flaky provider's requests answered 500. */
  failureRate: number
  seed: number
  /** What each provider takes as `Authorization: Bearer …`; anything else is answered 401. */
  sendgridKey: string
  resendKey: string
}

/** One email the flaky provider accepted. */
export interface AcceptedEmail {
  to: string
  subject: string
  idempotencyKey: string | null
  /** ms since the epoch. */
  at: number
}

export interface FakeCounts {
  /** Requests to the down provider, all answered 503. */
  down: number
  /** Requests to the flaky provider, and of them answered 500 by the draw. */
  flaky: number
  flakyFailed: number
  /** Emails accepted (each acceptance, a message accepted twice counts twice). */
  accepted: number
  /** Requests refused for their credentials or shape (401, 400), or to an unknown path (404). */
  refused: number
}

export interface FakeProviders {
  /** Base URLs as `PUT /api/messaging/providers` takes them. */
  sendgridBaseUrl: string
  resendBaseUrl: string
  counts(): FakeCounts
  /** Every acceptance by Cairn's message id, in order. */
  accepted(): ReadonlyMap<string, readonly AcceptedEmail[]>
  /** When each request to the down provider arrived (ms since the epoch): its circuit's probes. */
  downTimes(): readonly number[]
  /** Why requests were refused, by reason. */
  refusals(): Readonly<Record<string, number>>
  close(): Promise<void>
}

export async function startFakeProviders(options: FakeProviderOptions): Promise<FakeProviders> {
  const draw = seeded(options.seed)
  const counts: FakeCounts = { down: 0, flaky: 0, flakyFailed: 0, accepted: 0, refused: 0 }
  const accepted = new Map<string, AcceptedEmail[]>()
  const downTimes: number[] = []
  const refusals: Record<string, number> = {}
  let nextId = 0

  const refuse = (response: ServerResponse, status: number, reason: string) => {
    counts.refused++
    refusals[reason] = (refusals[reason] ?? 0) + 1
    answer(response, status, { message: reason })
  }

  const server = createServer(async (request, response) => {
    const body = await jsonBody(request)
    const path = request.url ?? ''
    if (request.method === 'POST' && path === SENDGRID_PATH) {
      counts.down++
      downTimes.push(Date.now())
      if (!authorized(request, options.sendgridKey)) return refuse(response, 401, 'bad API key')
      return answer(response, 503, { errors: [{ message: 'Service Unavailable' }] })
    }
    if (request.method === 'POST' && path === RESEND_PATH) {
      counts.flaky++
      if (!authorized(request, options.resendKey)) return refuse(response, 401, 'bad API key')
      const email = resendEmail(body)
      if (!email) return refuse(response, 400, 'no cairn_message tag, recipient or subject')
      if (draw() < options.failureRate) {
        counts.flakyFailed++
        return answer(response, 500, {
          statusCode: 500,
          name: 'internal_server_error',
          message: 'Something went wrong (a failure drawn by the bench)',
        })
      }
      counts.accepted++
      const idempotencyKey = request.headers['idempotency-key']
      const record: AcceptedEmail = {
        to: email.to,
        subject: email.subject,
        idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : null,
        at: Date.now(),
      }
      accepted.set(email.messageId, [...(accepted.get(email.messageId) ?? []), record])
      return answer(response, 200, { id: `fake_${++nextId}` })
    }
    refuse(response, 404, `${request.method} ${path}`)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address() as AddressInfo
  const origin = `http://127.0.0.1:${port}`
  return {
    sendgridBaseUrl: `${origin}${DOWN_PREFIX}`,
    resendBaseUrl: `${origin}${FLAKY_PREFIX}`,
    counts: () => ({ ...counts }),
    accepted: () => accepted,
    downTimes: () => downTimes,
    refusals: () => ({ ...refusals }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The fields of Resend's `POST /emails` body the bench checks, or null when one is missing. */
export function resendEmail(
  body: unknown,
): { messageId: string; to: string; subject: string } | null {
  if (typeof body !== 'object' || body === null) return null
  const { to, subject, tags } = body as { to?: unknown; subject?: unknown; tags?: unknown }
  const tag = Array.isArray(tags)
    ? (tags as { name?: unknown; value?: unknown }[]).find((t) => t?.name === 'cairn_message')
    : undefined
  const recipient = Array.isArray(to) ? to[0] : to
  if (typeof tag?.value !== 'string' || typeof recipient !== 'string') return null
  if (typeof subject !== 'string') return null
  return { messageId: tag.value, to: recipient, subject }
}

function authorized(request: IncomingMessage, key: string): boolean {
  return request.headers.authorization === `Bearer ${key}`
}

async function jsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    return null
  }
}

function answer(response: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body)
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  })
  response.end(text)
}
