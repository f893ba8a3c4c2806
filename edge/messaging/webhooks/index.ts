import type { Feedback } from '../../../contracts/messaging'
import * as postmark from './postmark'
import * as resend from './resend'
import * as sendgrid from './sendgrid'
import * as ses from './ses'
import {
  WebhookRefused,
  type ConfigOf,
  type WebhookDeps,
  type WebhookProvider,
  type WebhookRequest,
} from './webhook'

export {
  MESSAGE_TAG,
  WebhookMalformed,
  WebhookRefused,
  type ConfigOf,
  type WebhookDeps,
  type WebhookProvider,
  type WebhookRequest,
} from './webhook'

/** The providers whose feedback webhooks Cairn reads (`log` sends nowhere and hears nothing). */
export const WEBHOOK_PROVIDERS = [
  'sendgrid',
  'ses',
  'resend',
  'postmark',
] as const satisfies readonly WebhookProvider[]

function verify(
  config: ConfigOf<WebhookProvider>,
  request: WebhookRequest,
  deps: WebhookDeps,
): Promise<boolean> {
  switch (config.kind) {
    case 'sendgrid':
      return sendgrid.verify(request, config, deps)
    case 'ses':
      return ses.verify(request, config, deps)
    case 'resend':
      return resend.verify(request, config)
    case 'postmark':
      return postmark.verify(request, config)
  }
}

const PARSERS: Record<WebhookProvider, (request: WebhookRequest) => Feedback[]> = {
  sendgrid: sendgrid.parse,
  ses: ses.parse,
  resend: resend.parse,
  postmark: postmark.parse,
}

/**
 * The feedback in a provider's webhook, once its signature (or, for Postmark, its credentials)
 * proved it the provider's; events of mail Cairn did not send are left out. Throws
 * WebhookRefused when the webhook cannot be trusted, WebhookMalformed when a trusted body is not
 * the provider's format. A verified SNS SubscriptionConfirmation is confirmed on the way.
 */
export async function receiveFeedback(
  config: ConfigOf<WebhookProvider>,
  request: WebhookRequest,
  deps: WebhookDeps,
): Promise<Feedback[]> {
  if (!(await verify(config, request, deps))) {
    const proof = config.kind === 'postmark' ? 'credentials do' : 'signature does'
    throw new WebhookRefused(`The ${config.kind} webhook's ${proof} not match`)
  }
  if (config.kind === 'ses') await ses.confirmSubscription(request, deps)
  return PARSERS[config.kind](request)
}
