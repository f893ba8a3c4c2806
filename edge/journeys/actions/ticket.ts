import type { ProviderResult } from '../../../contracts/messaging'
import type { JourneyActionJob } from '../../../contracts/queue-messages'
import { callProvider, endpoint, field, postJson } from '../../messaging/providers/provider'
import { renderEmail, TemplateError } from '../../messaging/render'
import { actionFailureOf } from './failure'
import { refusedTarget } from './ssrf'
import type { TicketingConfig } from './ticketing-config'

/**
 * A journey's ticket node: one ticket in the configured help desk, the contact as requester.
 * Subject and body are Liquid, rendered with the email engine and its bounds (render.ts) with
 * `contact` (key, email, traits), `event` and `data` in scope; the body is plain text.
 *
 * - Zendesk, "Create Ticket" (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#create-ticket):
 *   `POST /api/v2/tickets.json {ticket: {subject, comment: {body}, requester: {email, name},
 *   external_id, tags}}`, Basic auth `{email}/token:{api_token}`
 *   (https://developer.zendesk.com/api-reference/introduction/security-and-auth/).
 * - Freshdesk, "Create a Ticket" (https://developers.freshdesk.com/api/#create_ticket):
 *   `POST /api/v2/tickets {subject, description (HTML), email, name, priority, status, tags}`,
 *   Basic auth with the API key as user and `X` as password
 *   (https://developers.freshdesk.com/api/#authentication).
 *
 * Neither API takes an idempotency key: a try whose answer was lost (a timeout) and is tried
 * again may open a second ticket. Zendesk's tickets carry the job's key as `external_id`, so a
 * repeat can be found.
 */

export interface TicketDeps {
  fetch: typeof fetch
  /** Local development and tests only (ssrf.ts). */
  allowPrivate: boolean
  timeoutMs?: number
}

export async function createTicket(
  job: JourneyActionJob,
  config: TicketingConfig,
  deps: TicketDeps,
): Promise<ProviderResult> {
  const permanent = (error: string): ProviderResult => ({ ok: false, retryable: false, error })
  if (!job.ticket) return permanent('The job has no ticket')
  const refused = refusedTarget(config.baseUrl, { allowPrivate: deps.allowPrivate })
  if (refused) return permanent(`Refused to call ${config.baseUrl}: ${refused}`)
  const email = job.contact.email
  if (!email) {
    return permanent(
      `The contact has no email address: ${helpDesk(config)} needs one for a requester`,
    )
  }
  let ticket: { subject: string; text: string }
  try {
    ticket = renderTicket(job)
  } catch (error) {
    if (error instanceof TemplateError)
      return permanent(`The ticket does not render: ${error.message}`)
    throw error
  }
  const name = nameOf(job.contact.traits)
  const tags = ['cairn', `journey-${job.journeyId.replace(/[^A-Za-z0-9_-]/g, '_')}`]
  const call = { fetch: deps.fetch, ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}) }
  if (config.kind === 'zendesk') {
    const authorization = btoa(`${config.email}/token:${config.apiToken}`)
    return callProvider({
      ...call,
      name: 'Zendesk',
      secrets: [config.apiToken, authorization],
      request: () =>
        postJson(
          endpoint(config.baseUrl, '/api/v2/tickets.json'),
          { Authorization: `Basic ${authorization}` },
          {
            ticket: {
              subject: ticket.subject,
              comment: { body: ticket.text },
              requester: { email, ...(name ? { name } : {}) },
              external_id: job.idempotencyKey,
              tags,
            },
          },
        ),
      accepted: ticketId,
      // Zendesk's errors: {error: "RecordInvalid", description: "Record validation errors", …}.
      explain: (status, body) => ({
        reason: field(body, 'description') ?? field(body, 'error'),
        failure: actionFailureOf(status),
      }),
    })
  }
  const authorization = btoa(`${config.apiKey}:X`)
  return callProvider({
    ...call,
    name: 'Freshdesk',
    secrets: [config.apiKey, authorization],
    request: () =>
      postJson(
        endpoint(config.baseUrl, '/api/v2/tickets'),
        { Authorization: `Basic ${authorization}` },
        {
          subject: ticket.subject,
          description: htmlOf(ticket.text),
          email,
          ...(name ? { name } : {}),
          // Low and Open: the help desk's own rules may raise them.
          priority: 1,
          status: 2,
          tags,
        },
      ),
    accepted: ticketId,
    explain: (status, body) => ({
      reason: freshdeskReason(body),
      failure: actionFailureOf(status),
    }),
  })
}

/** The rendered subject (one line) and body. Throws TemplateError. */
export function renderTicket(job: JourneyActionJob): { subject: string; text: string } {
  const rendered = renderEmail(
    { subject: job.ticket!.subject, html: '', text: job.ticket!.body, layout: null },
    {},
    { contact: job.contact, event: job.event, account: null, data: job.data },
  )
  return { subject: rendered.subject, text: rendered.text }
}

function helpDesk(config: TicketingConfig): string {
  return config.kind === 'zendesk' ? 'Zendesk' : 'Freshdesk'
}

/** The requester's name when the traits give one. */
function nameOf(traits: Record<string, unknown>): string | undefined {
  const text = (key: string) =>
    typeof traits[key] === 'string' ? (traits[key] as string).trim() : ''
  const name =
    text('name') ||
    [text('firstName') || text('first_name'), text('lastName') || text('last_name')]
      .filter(Boolean)
      .join(' ')
  return name || undefined
}

/** Freshdesk takes HTML: the plain-text body escaped, its line breaks kept. */
function htmlOf(text: string): string {
  const escaped = text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
  return escaped.replaceAll('\n', '<br>')
}

/** Freshdesk's errors: {description: "Validation failed", errors: [{field, message, code}]}. */
function freshdeskReason(body: unknown): string | undefined {
  const description = field(body, 'description')
  const errors = (body as { errors?: unknown } | null)?.errors
  const first = Array.isArray(errors) ? (errors[0] as unknown) : undefined
  const detail = first
    ? [field(first, 'field'), field(first, 'message')].filter(Boolean).join(': ')
    : ''
  return [description, detail].filter(Boolean).join(': ') || undefined
}

/** Zendesk answers {ticket: {id}}, Freshdesk {id}. */
async function ticketId(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { ticket?: unknown }
  return field(body?.ticket, 'id') ?? field(body, 'id')
}
