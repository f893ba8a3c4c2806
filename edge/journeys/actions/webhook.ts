import { Webhook } from 'standardwebhooks'
import type { ProviderResult } from '../../../contracts/messaging'
import type { JourneyActionJob } from '../../../contracts/queue-messages'
import { callProvider, field } from '../../messaging/providers/provider'
import { actionFailureOf } from './failure'
import { refusedTarget } from './ssrf'

/**
 * A journey's webhook node, sent as Standard Webhooks (https://www.standardwebhooks.com/):
 * `webhook-id` is the job's idempotency key, the same on every retry so a receiver can drop a
 * repeat; `webhook-timestamp` is the time of this try, in seconds; `webhook-signature` is
 * `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the account's `whsec_` secret
 * (signing-secret.ts), which receivers read from `GET /api/journeys/webhook-secret` and check
 * with any Standard Webhooks library.
 */

export interface WebhookDeps {
  secret: string
  fetch: typeof fetch
  /** Local development and tests only (ssrf.ts). */
  allowPrivate: boolean
  now?: () => Date
  timeoutMs?: number
}

/** What the receiver gets; `body` is the node's own. */
export function webhookPayload(job: JourneyActionJob) {
  return {
    type: 'journey.webhook',
    timestamp: job.at,
    data: {
      journeyId: job.journeyId,
      version: job.version,
      node: job.node,
      runId: job.runId,
      contact: job.contact,
      event: job.event,
      data: job.data,
      body: job.webhook?.body ?? null,
    },
  }
}

/** Sends the job's webhook: 2xx sent; 408, 429, 5xx, no answer retryable; the rest permanent. */
export async function sendWebhook(
  job: JourneyActionJob,
  deps: WebhookDeps,
): Promise<ProviderResult> {
  if (!job.webhook) return { ok: false, retryable: false, error: 'The job has no webhook' }
  const { url, method } = job.webhook
  const refused = refusedTarget(url, { allowPrivate: deps.allowPrivate })
  if (refused) return { ok: false, retryable: false, error: `Refused to call ${url}: ${refused}` }
  const body = JSON.stringify(webhookPayload(job))
  const at = (deps.now ?? nowDate)()
  return callProvider({
    name: `The webhook at ${new URL(url).host}`,
    request: () =>
      new Request(url, {
        method,
        // A redirect could lead anywhere, a private address too: it is a failure, not followed.
        redirect: 'manual',
        headers: {
          'Content-Type': 'application/json',
          'webhook-id': job.idempotencyKey,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': new Webhook(deps.secret).sign(job.idempotencyKey, at, body),
        },
        body,
      }),
    secrets: [deps.secret],
    fetch: deps.fetch,
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
    accepted: async () => undefined,
    explain: (status, answer) => ({
      reason: reasonOf(status, answer),
      failure: actionFailureOf(status),
    }),
  })
}

function reasonOf(status: number, answer: unknown): string | undefined {
  if (status >= 300 && status < 400) return 'redirects are not followed'
  if (typeof answer === 'string') return answer.trim().slice(0, 200) || undefined
  return field(answer, 'message') ?? field(answer, 'error')
}

function nowDate(): Date {
  return new Date()
}
