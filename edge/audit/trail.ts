import { asc, sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import type { ContactProfile } from '../../contracts/contact-profile'
import { contactStub, resolveContact } from '../../durable/contact-client'
import { auditLog } from '../db/schema'
import type { Env } from '../env'
import {
  identifierHash,
  identifiersOf,
  keyHash,
  type Identifier,
  type IdentifierKind,
} from '../privacy/identifiers'

const PERSON_IDENTIFIERS = new Set<string>(['userId', 'anonymousId', 'email'])

/**
 * The identifier hashes of a person named by `text` (any identifier a compliance officer holds):
 * every reading of the text, and, while the person's contact exists, every identifier linked to
 * it. After an erasure the links are gone, but its completion entry is indexed under all the
 * person's hashes, and `aboutAnyOf` follows it, so any one of them still finds the whole trail.
 */
export async function personHashes(
  env: Env,
  text: string,
  profile?: ContactProfile,
): Promise<string[]> {
  const found = profile ?? (await liveProfile(env, text))
  const identifiers: Identifier[] = [...identifiersOf(text)]
  if (found) {
    for (const identity of found.identities) {
      if (PERSON_IDENTIFIERS.has(identity.kind) && identity.status !== 'conflict') {
        identifiers.push({ kind: identity.kind as IdentifierKind, value: identity.value })
      }
    }
  }
  const hashes = await Promise.all(identifiers.map((id) => identifierHash(env, id)))
  if (found) hashes.push(await keyHash(env, found.key))
  return [...new Set(hashes)]
}

async function liveProfile(env: Env, text: string): Promise<ContactProfile | undefined> {
  const key = await resolveContact(env, text)
  if (!key) return undefined
  const result = await contactStub(env, key).profile()
  return result.found ? result.profile : undefined
}

/** The action of the entry an erasure appends when it has run (see privacy/erasure.ts). */
export const ERASURE_COMPLETED = 'erasure completed'

/**
 * The condition that selects the audit entries about any of `hashes`, and about every other
 * identifier an erasure found linked to one of them: its completion entry is indexed under all
 * of the person's hashes, so after it the trail is whole from any one of them, though the
 * identity links themselves are gone.
 */
export function aboutAnyOf(hashes: string[]): SQL {
  const given = sql`(SELECT value FROM json_each(${JSON.stringify(hashes)}))`
  const linked = sql`(SELECT value FROM json_each(${JSON.stringify(hashes)}) UNION
    SELECT s.subject_hash FROM audit_subjects AS s WHERE s.seq IN (
      SELECT e.seq FROM audit_subjects AS e JOIN audit_log AS l ON l.seq = e.seq
      WHERE l.action = ${ERASURE_COMPLETED} AND e.subject_hash IN ${given}))`
  return sql`(${auditLog.subjectHash} IN ${linked} OR ${auditLog.seq} IN
    (SELECT seq FROM audit_subjects WHERE subject_hash IN ${linked}))`
}

/** Every audit entry about the person, oldest first (the DSAR export's part). */
export async function auditTrail(env: Env, hashes: string[]) {
  return drizzle(env.DB)
    .select()
    .from(auditLog)
    .where(aboutAnyOf(hashes))
    .orderBy(asc(auditLog.seq))
}
