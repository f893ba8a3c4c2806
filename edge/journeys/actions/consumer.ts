import { contactStub } from '../../../durable/contact-client'
import type { ProviderResult } from '../../../contracts/messaging'
import type { JourneyActionJob } from '../../../contracts/queue-messages'
import type { Env } from '../../env'
import type { SecretBoxEnv } from '../../messaging/secret-box'
import { UnreadableSecret, webhookSecret } from './signing-secret'
import { createTicket } from './ticket'
import { readTicketing } from './ticketing-config'
import { sendWebhook } from './webhook'

/**
 * A journey's webhook and ticket jobs, delivered by the `cairn-messages` queue beside email
 * sends and retried with their backoff (send-consumer.ts). Each job's fate is kept in D1's
 * `journey_actions` by its idempotency key: `sent`, `retrying` (with the last error) or
 * `failed`. A job already sent or failed is not tried again when the queue delivers it again.
 */

export type ActionsEnv = Pick<Env, 'DB' | 'CAIRN_ENV' | 'CONTACTS'> &
  SecretBoxEnv & {
    /** "true": webhooks and help desks may be private addresses, unless CAIRN_ENV is production. */
    CAIRN_WEBHOOK_ALLOW_PRIVATE?: string
  }

export interface ActionOutcome {
  outcome: 'done' | 'retry' | 'failed'
  error?: string
}

export interface ActionOptions {
  /** This is the job's last delivery: a retryable failure is final now. */
  final?: boolean
  fetch?: typeof fetch
}

type Status = 'sent' | 'retrying' | 'failed'

/** For local development and tests only: never honoured in production. */
export function allowPrivateTargets(env: ActionsEnv): boolean {
  return env.CAIRN_WEBHOOK_ALLOW_PRIVATE === 'true' && env.CAIRN_ENV !== 'production'
}

export async function handleActionJob(
  env: ActionsEnv,
  job: JourneyActionJob,
  attempt: number,
  options: ActionOptions = {},
): Promise<ActionOutcome> {
  const prior = await env.DB.prepare('SELECT status, last_error FROM journey_actions WHERE id = ?')
    .bind(job.idempotencyKey)
    .first<{ status: Status; last_error: string | null }>()
  // A delivery after the outcome was kept: the queue lost the acknowledgement.
  if (prior?.status === 'sent') return { outcome: 'done' }
  if (prior?.status === 'failed') return { outcome: 'failed', error: prior.last_error ?? 'failed' }

  // Erased after the step was taken: nothing about the person goes out, and no row names them.
  if (await contactStub(env, job.contactKey).erased()) return { outcome: 'done' }
  const result = await perform(env, job, options.fetch ?? fetch)
  const httpStatus = result.httpStatus ?? null
  if (result.ok) {
    await record(env.DB, job, { status: 'sent', attempt, error: null, httpStatus })
    return { outcome: 'done' }
  }
  if (result.retryable && !options.final) {
    await record(env.DB, job, { status: 'retrying', attempt, error: result.error, httpStatus })
    return { outcome: 'retry', error: result.error }
  }
  const error = result.retryable
    ? `Failed on each of ${attempt} deliveries; last: ${result.error}`
    : result.error
  await record(env.DB, job, { status: 'failed', attempt, error, httpStatus })
  return { outcome: 'failed', error }
}

async function perform(
  env: ActionsEnv,
  job: JourneyActionJob,
  fetcher: typeof fetch,
): Promise<ProviderResult> {
  const allowPrivate = allowPrivateTargets(env)
  const permanent = (error: string): ProviderResult => ({ ok: false, retryable: false, error })
  if (job.kind === 'webhook') {
    let secret: string
    try {
      secret = await webhookSecret(env)
    } catch (error) {
      if (error instanceof UnreadableSecret) return permanent(error.message)
      throw error
    }
    return sendWebhook(job, { secret, fetch: fetcher, allowPrivate })
  }
  const config = await readTicketing(env)
  if (config === null) {
    return permanent('No help desk is configured for ticket nodes (PUT /api/journeys/ticketing)')
  }
  if (config === 'unreadable') {
    return permanent(
      'The help desk credential cannot be opened: the secrets key changed since it was saved; ' +
        'enter it again (PUT /api/journeys/ticketing)',
    )
  }
  return createTicket(job, config, { fetch: fetcher, allowPrivate })
}

async function record(
  db: D1Database,
  job: JourneyActionJob,
  outcome: { status: Status; attempt: number; error: string | null; httpStatus: number | null },
): Promise<void> {
  // A slower delivery never takes a sent job back to retrying or failed.
  await db
    .prepare(
      `INSERT INTO journey_actions (id, contact_key, journey_id, version, run_id, node, kind,
         status, attempts, last_error, response_status, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         last_error = excluded.last_error, response_status = excluded.response_status,
         updated_at = excluded.updated_at
       WHERE journey_actions.status <> 'sent'`,
    )
    .bind(
      job.idempotencyKey,
      job.contactKey,
      job.journeyId,
      job.version,
      job.runId,
      job.node,
      job.kind,
      outcome.status,
      outcome.attempt,
      outcome.error,
      outcome.httpStatus,
      new Date().toISOString(),
    )
    .run()
}

/** A queue body that is a journey's webhook or ticket job; null for anything else. */
export function actionJobOf(body: unknown): JourneyActionJob | null {
  let job: Partial<JourneyActionJob> | null
  try {
    job = (typeof body === 'string' ? JSON.parse(body) : body) as Partial<JourneyActionJob> | null
  } catch {
    return null
  }
  if (!job || (job.kind !== 'webhook' && job.kind !== 'ticket')) return null
  const texts = [job.idempotencyKey, job.contactKey, job.journeyId, job.runId, job.node]
  const complete =
    texts.every((text) => typeof text === 'string') &&
    typeof job.version === 'number' &&
    typeof job.contact?.key === 'string' &&
    (job.kind === 'webhook' ? typeof job.webhook?.url === 'string' : !!job.ticket)
  return complete ? (job as JourneyActionJob) : null
}
