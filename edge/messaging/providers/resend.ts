import type { OutgoingEmail, ProviderConfig } from '../../../contracts/messaging'
import {
  callProvider,
  endpoint,
  field,
  postJson,
  type EmailProvider,
  type ProviderDeps,
} from './provider'

export const RESEND_API = 'https://api.resend.com'

/**
 * Resend's POST /emails: 200 with `{ id }`. The message's idempotency key goes along, so a send
 * repeated after a consumer died mid-send (docs/design/messaging.md, "What exactly one means")
 * is dropped by Resend rather than delivered twice.
 */
export function resendProvider(
  config: Extract<ProviderConfig, { kind: 'resend' }>,
  deps: ProviderDeps,
): EmailProvider {
  const url = endpoint(config.baseUrl ?? RESEND_API, '/emails')
  return {
    kind: 'resend',
    send: (email) =>
      callProvider({
        name: 'Resend',
        request: () =>
          postJson(
            url,
            { Authorization: `Bearer ${config.apiKey}`, 'Idempotency-Key': email.idempotencyKey },
            body(email),
          ),
        secrets: [config.apiKey],
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs,
        accepted: async (response) => field(await response.json(), 'id'),
        // { statusCode, name, message }
        explain: (_status, answer) => ({
          reason: field(answer, 'message'),
          // The same key is being sent right now: the other send decides, this one comes back.
          ...(field(answer, 'name') === 'concurrent_idempotent_requests'
            ? { failure: 'retryable' as const }
            : {}),
        }),
      }),
  }
}

function body(email: OutgoingEmail) {
  return {
    from: email.from,
    to: [email.to],
    ...(email.replyTo ? { reply_to: email.replyTo } : {}),
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: email.headers,
    tags: [{ name: 'cairn_message', value: email.messageId }],
  }
}
