import type { OutgoingEmail, ProviderConfig } from '../../../contracts/messaging'
import {
  callProvider,
  endpoint,
  field,
  postJson,
  type EmailProvider,
  type ProviderDeps,
} from './provider'

export const SENDGRID_API = 'https://api.sendgrid.com'

/** SendGrid's v3 Mail Send: 202 with the message's id in X-Message-Id. */
export function sendgridProvider(
  config: Extract<ProviderConfig, { kind: 'sendgrid' }>,
  deps: ProviderDeps,
): EmailProvider {
  const url = endpoint(config.baseUrl ?? SENDGRID_API, '/v3/mail/send')
  return {
    kind: 'sendgrid',
    send: (email) =>
      callProvider({
        name: 'SendGrid',
        request: () => postJson(url, { Authorization: `Bearer ${config.apiKey}` }, body(email)),
        secrets: [config.apiKey],
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs,
        accepted: async (response) => response.headers.get('X-Message-Id') ?? undefined,
        // { errors: [{ message, field }] }
        explain: (_status, answer) => {
          const errors = (answer as { errors?: unknown } | null)?.errors
          return { reason: Array.isArray(errors) ? field(errors[0], 'message') : undefined }
        },
      }),
  }
}

function body(email: OutgoingEmail) {
  return {
    personalizations: [{ to: [{ email: email.to }] }],
    from: mailbox(email.from),
    ...(email.replyTo ? { reply_to: mailbox(email.replyTo) } : {}),
    subject: email.subject,
    // SendGrid takes text/plain first, and refuses a part with no text.
    content: [
      ...(email.text ? [{ type: 'text/plain', value: email.text }] : []),
      { type: 'text/html', value: email.html },
    ],
    headers: email.headers,
    // Comes back on every event webhook: how feedback finds the message.
    custom_args: { cairn_message: email.messageId },
  }
}

/** `Name <address>` as SendGrid's `{ email, name }`; a bare address as `{ email }`. */
export function mailbox(text: string): { email: string; name?: string } {
  const match = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+)>\s*$/.exec(text)
  if (!match) return { email: text.trim() }
  const [, name, email] = match as unknown as [string, string, string]
  return name ? { email, name } : { email }
}
