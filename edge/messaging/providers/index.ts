import type { ProviderConfig } from '../../../contracts/messaging'
import { logProvider } from './log'
import { postmarkProvider } from './postmark'
import type { EmailProvider, ProviderDeps } from './provider'
import { resendProvider } from './resend'
import { sesProvider } from './ses'
import { sendgridProvider } from './sendgrid'

export type { EmailProvider, ProviderDeps } from './provider'

/** The client of one configured provider (edge/messaging/provider-config.ts readProviders). */
export function createProvider(config: ProviderConfig, deps: ProviderDeps): EmailProvider {
  switch (config.kind) {
    case 'sendgrid':
      return sendgridProvider(config, deps)
    case 'ses':
      return sesProvider(config, deps)
    case 'resend':
      return resendProvider(config, deps)
    case 'postmark':
      return postmarkProvider(config, deps)
    case 'log':
      return logProvider(deps)
  }
}
