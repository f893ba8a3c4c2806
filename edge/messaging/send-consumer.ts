import type { Attempt, OutgoingEmail, ProviderConfig, SendJob } from '../../contracts/messaging'
import type { JourneyActionJob } from '../../contracts/queue-messages'
import type { Decision } from '../../domain/messaging/circuit'
import { healthOutcomes, sendWithFallback } from '../../domain/messaging/fallback'
import { contactStub } from '../../durable/contact-client'
import type { ClaimedMessage, Settlement } from '../../durable/contact-messaging'
import { providerHealth, type ProviderOutcome } from '../../durable/provider-health'
import type { Env } from '../env'
import { actionJobOf, handleActionJob } from '../journeys/actions/consumer'
import { readProviders } from './provider-config'
import { createProvider } from './providers'
import { renderEmail } from './render'
import { readMessagingSettings, type MessagingSettings } from './settings'
import { loadTemplateForSend } from './templates'
import { unsubscribeHeaders } from './unsubscribe'

/**
 * The `cairn-messages` consumer (docs/design/messaging.md, "The life of a message"): each job
 * claims its message from the contact's object, renders it, sends it through the providers in
 * order and settles it there. The circuits are asked once per batch and told once per batch.
 */

/** The queue's max_retries (wrangler.toml): the delivery after it is the last. */
export const MAX_RETRIES = 10
const FIRST_RETRY_S = 5
const LAST_RETRY_S = 300

/** Seconds before the next delivery of a send every provider refused retryably. */
export function retryDelay(delivery: number): number {
  return Math.min(FIRST_RETRY_S * 2 ** (delivery - 1), LAST_RETRY_S)
}

export interface SendContext {
  providers: ProviderConfig[]
  decisions: Record<string, Decision>
  settings: MessagingSettings
  fetch: typeof fetch
  /** This is the job's last delivery: a retryable failure is final now. */
  final: boolean
}

export async function consumeSends(
  batch: MessageBatch<unknown>,
  env: Env,
  fetcher: typeof fetch = fetch,
): Promise<void> {
  // Journeys' webhooks and tickets share this queue and its backoff (edge/journeys/actions/).
  const actions: { message: Message<unknown>; job: JourneyActionJob }[] = []
  const sends: Message<unknown>[] = []
  for (const message of batch.messages) {
    const job = actionJobOf(message.body)
    if (job) actions.push({ message, job })
    else sends.push(message)
  }
  await Promise.all([
    ...actions.map(({ message, job }) => takeAction(env, message, job, fetcher)),
    sends.length > 0 ? deliverSends(sends, env, fetcher) : undefined,
  ])
}

async function takeAction(
  env: Env,
  message: Message<unknown>,
  job: JourneyActionJob,
  fetcher: typeof fetch,
): Promise<void> {
  try {
    const final = message.attempts > MAX_RETRIES
    const { outcome } = await handleActionJob(env, job, message.attempts, { final, fetch: fetcher })
    if (outcome === 'retry') message.retry({ delaySeconds: retryDelay(message.attempts) })
    else message.ack()
  } catch (error) {
    console.error(
      'journey action failed before its outcome was kept; the queue delivers it again',
      error,
    )
    message.retry({ delaySeconds: retryDelay(message.attempts) })
  }
}

async function deliverSends(
  messages: readonly Message<unknown>[],
  env: Env,
  fetcher: typeof fetch,
): Promise<void> {
  const health = providerHealth(env)
  let setup: [ProviderConfig[], MessagingSettings, Record<string, Decision>]
  try {
    const [providers, settings] = await Promise.all([
      readProviders(env),
      readMessagingSettings(env.DB),
    ])
    setup = [providers, settings, await health.decide(providers.map((p) => p.kind))]
  } catch (error) {
    // Each job retried with its own backoff: a batch that threw would be retried at once, and
    // after the last retry its jobs would go to the dead-letter queue unsettled.
    console.error('send batch could not start; each job comes back', error)
    for (const message of messages) {
      message.retry({ delaySeconds: retryDelay(message.attempts) })
    }
    return
  }
  const [providers, settings, decisions] = setup
  const outcomes: ProviderOutcome[] = []
  await Promise.all(
    messages.map(async (message) => {
      const job = parseJob(message.body)
      if (!job) {
        console.error('send queue: not a send job, dropped', message.id)
        return message.ack()
      }
      try {
        const final = message.attempts > MAX_RETRIES
        const context = { providers, decisions, settings, fetch: fetcher, final }
        const result = await sendOne(env, job, context, message.attempts)
        outcomes.push(...result.outcomes)
        if (result.retryAfterS !== null) message.retry({ delaySeconds: result.retryAfterS })
        else message.ack()
      } catch (error) {
        console.error('send failed before it settled; the queue delivers it again', error)
        message.retry({ delaySeconds: retryDelay(message.attempts) })
      }
    }),
  )
  // Every job is settled and answered: a report that fails costs the circuits one batch.
  if (outcomes.length > 0) {
    await health.report(outcomes).catch((error: unknown) => {
      console.error('provider outcomes not reported', error)
    })
  }
}

/**
 * One job. Whatever happens after the claim is settled in the contact's object, so a message
 * never stays claimed because a template went missing or failed to render.
 */
export async function sendOne(
  env: Env,
  job: SendJob,
  context: SendContext,
  delivery = 1,
): Promise<{ retryAfterS: number | null; outcomes: ProviderOutcome[] }> {
  const contact = contactStub(env, job.contactKey)
  const claim = await contact.claimMessage(job.contactKey, job.messageId)
  if (!claim.claimed) {
    // Held by another delivery: back when its claim runs out, in case that delivery died.
    if (claim.status === 'held') {
      return { retryAfterS: Math.max(1, Math.ceil(claim.retryAfterMs / 1000)), outcomes: [] }
    }
    // Settled, refused now, unknown (erased), or not due: nothing to send on this job.
    return { retryAfterS: null, outcomes: [] }
  }
  const message = claim.message
  const settle = (settlement: Settlement) =>
    contact.settleMessage(job.contactKey, job.messageId, settlement)

  let email: OutgoingEmail
  try {
    email = await compose(env, message, context.settings)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    await settle({ outcome: 'failed', attempts: message.attempts, error: reason })
    return { retryAfterS: null, outcomes: [] }
  }
  const decided = context.providers.map((config) => takeDecision(context.decisions, config.kind))
  // Every circuit open: the message tries them all in order rather than waiting out a backoff
  // for none. A provider failing a share of its requests at random opens now and then; when the
  // other is down, skipping both held a bench's messages for the 10-minute cool-downs.
  const lastResort = decided.every((decision) => decision === 'skip')
  const { attempts, outcome } = await sendWithFallback(
    context.providers.map((config, i) => ({
      kind: config.kind,
      decision: lastResort ? 'use' : decided[i]!,
      send: () =>
        createProvider(config, {
          fetch: context.fetch,
          db: env.DB,
          contactKey: job.contactKey,
        }).send(email),
    })),
    Date.now,
  )
  const all: Attempt[] = [...message.attempts, ...attempts]
  const outcomes = healthOutcomes(attempts)
  const subject = email.subject
  if (outcome.status === 'sent') {
    await settle({
      outcome: 'sent',
      attempts: all,
      subject,
      provider: outcome.provider,
      ...(outcome.providerMessageId ? { providerMessageId: outcome.providerMessageId } : {}),
    })
    return { retryAfterS: null, outcomes }
  }
  if (outcome.status === 'permanent' || context.final) {
    const error =
      outcome.status === 'permanent'
        ? outcome.error
        : `Every provider failed on each of ${MAX_RETRIES + 1} deliveries; last: ${outcome.error}`
    await settle({ outcome: 'failed', attempts: all, subject, error })
    return { retryAfterS: null, outcomes }
  }
  await settle({ outcome: 'retry', attempts: all, subject })
  return { retryAfterS: retryDelay(delivery), outcomes }
}

/**
 * A probe is one message's: the batch's other messages skip that provider until its circuit
 * closes, so a provider that is still down costs one message a try, not the whole batch.
 */
function takeDecision(decisions: Record<string, Decision>, kind: string): Decision {
  const decision = decisions[kind] ?? 'use'
  if (decision === 'probe') decisions[kind] = 'skip'
  return decision
}

async function compose(
  env: Env,
  message: ClaimedMessage,
  settings: MessagingSettings,
): Promise<OutgoingEmail> {
  const loaded = await loadTemplateForSend(env.DB, message.templateId)
  if (!loaded) throw new Error(`The template ${message.templateId} no longer exists`)
  const rendered = renderEmail(loaded.template, loaded.snippets, {
    contact: message.contact,
    event: message.event,
    account: message.account,
    data: message.data,
  })
  const headers =
    message.kind === 'marketing'
      ? await unsubscribeHeaders(env, {
          contactKey: message.contact.key,
          groupId: message.groupId,
          messageId: message.messageId,
        })
      : {}
  return {
    messageId: message.messageId,
    idempotencyKey: message.idempotencyKey,
    from: settings.from,
    ...(settings.replyTo ? { replyTo: settings.replyTo } : {}),
    to: message.to,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    headers,
  }
}

function parseJob(body: unknown): SendJob | null {
  try {
    const job = (typeof body === 'string' ? JSON.parse(body) : body) as Partial<SendJob>
    if (
      job?.kind === 'send' &&
      typeof job.contactKey === 'string' &&
      typeof job.messageId === 'string'
    ) {
      return job as SendJob
    }
  } catch {
    // not JSON: dropped below
  }
  return null
}
