import { contactStub } from '../../durable/contact-client'
import { auditTrail, personHashes } from '../audit/trail'
import { existingContact } from '../contacts/existing-contact'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { keyHash } from './identifiers'

/** Exports of one person live under one prefix, so erasure and retention find them. */
export async function exportPrefix(env: Env, contactKey: string): Promise<string> {
  return `exports/${await keyHash(env, contactKey)}/`
}

/**
 * Everything Cairn holds about a person (GDPR art. 15): profile, traits and their history,
 * every event, the consent ledger, identities, and the audit entries about them. A copy is
 * kept in R2 for the export retention period, so it is covered by erasure and retention.
 */
export async function exportContact(env: Env, contactId: string) {
  const key = await existingContact(env, contactId)
  const data = await contactStub(env, key).exportAll()
  if (!data) throw new ApiError(404, 'not_found', `No contact ${contactId}`)
  const audit = await auditTrail(env, await personHashes(env, contactId, data.profile))
  const document = {
    exportedAt: new Date().toISOString(),
    contact: data.profile,
    consent: data.consent,
    events: data.events,
    audit,
  }
  const object = `${await exportPrefix(env, key)}${document.exportedAt}.json`
  await env.ARCHIVE.put(object, JSON.stringify(document), {
    httpMetadata: { contentType: 'application/json' },
  })
  return document
}
