import { drizzle } from 'drizzle-orm/d1'
import { asc, eq } from 'drizzle-orm'
import { contactStub, existingContact } from '../../durable/contact-client'
import { subjectHash } from '../audit/log'
import { auditLog } from '../db/schema'
import type { Env } from '../env'
import { ApiError } from '../errors'

/** Exports of one person live under one prefix, so erasure and retention find them. */
export async function exportPrefix(contactKey: string): Promise<string> {
  return `exports/${await subjectHash(contactKey)}/`
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
  const subjects = new Set([contactId, key, ...data.profile.anonymousIds.map((id) => `anon:${id}`)])
  const audit = []
  for (const subject of subjects) {
    audit.push(
      ...(await drizzle(env.DB)
        .select()
        .from(auditLog)
        .where(eq(auditLog.subjectHash, await subjectHash(subject)))
        .orderBy(asc(auditLog.seq))),
    )
  }
  const document = {
    exportedAt: new Date().toISOString(),
    contact: data.profile,
    consent: data.consent,
    events: data.events,
    audit: audit.sort((a, b) => a.seq - b.seq),
  }
  const object = `${await exportPrefix(key)}${document.exportedAt}.json`
  await env.ARCHIVE.put(object, JSON.stringify(document), {
    httpMetadata: { contentType: 'application/json' },
  })
  return document
}
