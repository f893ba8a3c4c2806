import type { OutgoingEmail, ProviderConfig } from '../../../contracts/messaging'
import {
  callProvider,
  endpoint,
  field,
  postJson,
  type EmailProvider,
  type Failure,
  type ProviderDeps,
} from './provider'

export const POSTMARK_API = 'https://api.postmarkapp.com'

/**
 * Postmark's ErrorCodes (https://postmarkapp.com/developer/api/overview#error-codes) that are
 * about the account or the service, not the message: another provider may well send it. Every
 * other code with a 422 refuses the message itself (300 invalid request, 406 inactive recipient).
 */
const PROVIDER_TROUBLE = new Set([
  10, // bad or missing server token
  100, // maintenance
  400, // sender signature not found
  401, // sender signature not confirmed
  405, // not allowed to send (out of credits)
  412, // account pending approval
  413, // account may not send
  429, // rate limit exceeded
])

/** Postmark's POST /email: 200 with `{ MessageID }`, 422 with an ErrorCode for a bad message. */
export function postmarkProvider(
  config: Extract<ProviderConfig, { kind: 'postmark' }>,
  deps: ProviderDeps,
): EmailProvider {
  const url = endpoint(config.baseUrl ?? POSTMARK_API, '/email')
  return {
    kind: 'postmark',
    send: (email) =>
      callProvider({
        name: 'Postmark',
        request: () =>
          postJson(url, { 'X-Postmark-Server-Token': config.serverToken }, body(email, config)),
        secrets: [config.serverToken],
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs,
        accepted: async (response) => field(await response.json(), 'MessageID'),
        // { ErrorCode, Message }
        explain: (status, answer) => {
          const code = Number(field(answer, 'ErrorCode'))
          const message = field(answer, 'Message')
          const reason = Number.isFinite(code)
            ? `${message ?? 'error'} (ErrorCode ${code})`
            : message
          const failure: Failure | undefined =
            status === 422 && PROVIDER_TROUBLE.has(code) ? 'retryable' : undefined
          return failure ? { reason, failure } : { reason }
        },
      }),
  }
}

function body(email: OutgoingEmail, config: Extract<ProviderConfig, { kind: 'postmark' }>) {
  return {
    From: email.from,
    To: email.to,
    ...(email.replyTo ? { ReplyTo: email.replyTo } : {}),
    Subject: email.subject,
    HtmlBody: email.html,
    TextBody: email.text,
    Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
    // Comes back on every webhook: how feedback finds the message.
    Metadata: { cairn_message: email.messageId },
    ...(config.messageStream ? { MessageStream: config.messageStream } : {}),
  }
}
