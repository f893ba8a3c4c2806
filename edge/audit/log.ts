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
 * row lists every identifier hash it linked (see linkAuditTrail).
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

/**
 * Joins the trails of one person's identifiers: every entry indexed under any of `hashes` is
 * indexed under all of them. An erasure does this when it has found every identifier linked to
 * the person, so that after it, their trail (the erasure included) is still found by any
 * identifier a compliance officer holds, though the identity links themselves are gone.
 */
export async function linkAuditTrail(db: D1Database, hashes: string[]) {
  if (hashes.length < 2) return
  await db
    .prepare(
      `INSERT OR IGNORE INTO audit_subjects (subject_hash, seq)
       SELECT h.value, s.seq FROM json_each(?1) AS h,
         (SELECT DISTINCT seq FROM audit_subjects
          WHERE subject_hash IN (SELECT value FROM json_each(?1))) AS s`,
    )
    .bind(JSON.stringify(hashes))
    .run()
}

/** Audit rows name a person only by a keyed hash, so the log outlives their erasure. */
export function subjectHash(env: HashKeyEnv, subject: string | Identifier): Promise<string> {
  return typeof subject === 'string' ? keyHash(env, subject) : identifierHash(env, subject)
}
