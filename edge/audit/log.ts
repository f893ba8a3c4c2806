import type { AuditEntry, AuditSequencer } from '../../durable/audit-sequencer'
import { sha256Hex } from '../access/secrets'
import type { Env } from '../env'
import { releasing } from '../../durable/rpc'

/** The one sequencer object orders every append. */
const SEQUENCER = 'audit-log'

export function auditSequencer(env: Pick<Env, 'AUDIT'>) {
  return releasing(env.AUDIT.get(env.AUDIT.idFromName(SEQUENCER))) as unknown as Pick<
    AuditSequencer,
    'append' | 'head'
  >
}

export async function appendAudit(env: Env, entries: AuditEntry[]) {
  return auditSequencer(env).append(entries)
}

/** Audit rows name a person only by this hash, so the log can outlive their erasure. */
export function subjectHash(contactKey: string): Promise<string> {
  return sha256Hex(`subject:${contactKey}`)
}
