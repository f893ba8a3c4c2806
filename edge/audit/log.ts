import type { AuditEntry, AuditSequencer } from '../../durable/audit-sequencer'
import type { Env } from '../env'
import { identifierHash, keyHash, type HashKeyEnv, type Identifier } from '../privacy/identifiers'
import { releasing } from '../../durable/rpc'

/** The one sequencer object orders every append. */
const SEQUENCER = 'audit-log'

export function auditSequencer(env: Pick<Env, 'AUDIT'>) {
  return releasing(env.AUDIT.get(env.AUDIT.idFromName(SEQUENCER))) as unknown as Pick<
    AuditSequencer,
    'append' | 'head'
  >
}

/** An audit entry and the further identifiers of the person it is about, as hashes. */
export type AuditAppend = AuditEntry & { alsoAbout?: string[] }

/**
 * Appends entries to the chain, then indexes each under every identifier hash of its subject
 * (audit_subjects), so a person's trail is found by any of their identifiers. The index is not
 * part of the chain: the chained row keeps its primary subject hash, and an erasure's completion
 * row lists every identifier hash it found in its detail (see audit/trail.ts aboutAnyOf).
 */
export async function appendAudit(env: Env, entries: AuditAppend[]) {
  const rows = await auditSequencer(env).append(entries.map(({ alsoAbout: _, ...entry }) => entry))
  const links = rows.flatMap((row, i) => {
    const entry = entries[i]!
    const hashes = new Set([entry.subjectHash, ...(entry.alsoAbout ?? [])])
    return [...hashes]
      .filter((h): h is string => Boolean(h))
      .map((hash) => ({ seq: row.seq, hash }))
  })
  if (links.length > 0) {
    await env.DB.prepare(
      `INSERT OR IGNORE INTO audit_subjects (subject_hash, seq)
       SELECT json_extract(value, '$.hash'), json_extract(value, '$.seq') FROM json_each(?)`,
    )
      .bind(JSON.stringify(links))
      .run()
  }
  return rows
}

/** Audit rows name a person only by a keyed hash, so the log outlives their erasure. */
export function subjectHash(env: HashKeyEnv, subject: string | Identifier): Promise<string> {
  return typeof subject === 'string' ? keyHash(env, subject) : identifierHash(env, subject)
}
