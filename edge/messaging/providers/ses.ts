import { AwsClient } from 'aws4fetch'
import type { OutgoingEmail, ProviderConfig } from '../../../contracts/messaging'
import {
  callProvider,
  endpoint,
  field,
  type EmailProvider,
  type Failure,
  type ProviderDeps,
} from './provider'

type SesConfig = Extract<ProviderConfig, { kind: 'ses' }>

/**
 * SES errors (X-Amzn-ErrorType) about the account or its limits rather than the message: another
 * provider may send it. MessageRejected and BadRequestException refuse the message (400, so
 * permanent by status); throttling is a 429 and credentials a 403, retryable by status.
 */
const PROVIDER_TROUBLE = new Set([
  'LimitExceededException',
  'AccountSuspendedException',
  'SendingPausedException',
  'MailFromDomainNotVerifiedException',
])

/** Amazon SES v2 SendEmail, signed with SigV4: 200 with `{ MessageId }`. */
export function sesProvider(config: SesConfig, deps: ProviderDeps): EmailProvider {
  const aws = new AwsClient({
    accessKeyId: config.accessKeyId,
    secretAccessKey: config.secretAccessKey,
    service: 'ses',
    region: config.region,
  })
  const url = endpoint(
    config.baseUrl ?? `https://email.${config.region}.amazonaws.com`,
    '/v2/email/outbound-emails',
  )
  return {
    kind: 'ses',
    send: (email) =>
      callProvider({
        name: 'SES',
        request: () =>
          aws.sign(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify(body(email, config)),
          }),
        secrets: [config.secretAccessKey, config.accessKeyId],
        fetch: deps.fetch,
        timeoutMs: deps.timeoutMs,
        accepted: async (response) => field(await response.json(), 'MessageId'),
        explain: (_status, answer, headers) => {
          // `MessageRejected:http://internal.amazon.com/coral/…`: the name before the colon.
          const type =
            headers.get('X-Amzn-ErrorType')?.split(':')[0] ??
            field(answer, '__type')?.split('#').pop()
          const message = field(answer, 'message') ?? field(answer, 'Message')
          const reason = [type, message].filter(Boolean).join(': ') || undefined
          const failure: Failure | undefined =
            type && PROVIDER_TROUBLE.has(type) ? 'retryable' : undefined
          return failure ? { reason, failure } : { reason }
        },
      }),
  }
}

function body(email: OutgoingEmail, config: SesConfig) {
  const utf8 = (Data: string) => ({ Data, Charset: 'UTF-8' })
  return {
    FromEmailAddress: email.from,
    Destination: { ToAddresses: [email.to] },
    ...(email.replyTo ? { ReplyToAddresses: [email.replyTo] } : {}),
    Content: {
      Simple: {
        Subject: utf8(email.subject),
        Body: { Html: utf8(email.html), Text: utf8(email.text) },
        Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
      },
    },
    // Comes back in every SNS notification: how feedback finds the message.
    EmailTags: [{ Name: 'cairn_message', Value: email.messageId }],
    ...(config.configurationSet ? { ConfigurationSetName: config.configurationSet } : {}),
  }
}
