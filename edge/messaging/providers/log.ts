import { drizzle } from 'drizzle-orm/d1'
import { loggedEmails } from '../../db/schema'
import type { EmailProvider, ProviderDeps } from './provider'

/**
 * Sends nothing: keeps the rendered message in D1 `logged_emails`, where the console shows it.
 * The default when no provider is configured, so a local `npm start` shows every message
 * without an account anywhere. A message stored before (a retried send) is kept as it was.
 */
export function logProvider(deps: ProviderDeps): EmailProvider {
  return {
    kind: 'log',
    async send(email) {
      try {
        await drizzle(deps.db)
          .insert(loggedEmails)
          .values({
            messageId: email.messageId,
            contactKey: deps.contactKey,
            toAddress: email.to,
            fromAddress: email.from,
            subject: email.subject,
            html: email.html,
            text: email.text,
            headers: email.headers,
            createdAt: new Date().toISOString(),
          })
          .onConflictDoNothing({ target: loggedEmails.messageId })
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error)
        return { ok: false, retryable: true, error: `log: the message was not stored: ${detail}` }
      }
      return { ok: true, providerMessageId: `log-${email.messageId}` }
    },
  }
}
