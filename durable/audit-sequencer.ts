import { DurableObject } from 'cloudflare:workers'
import { chainHash, GENESIS_HASH, type AuditContent } from '../edge/domain/audit-chain'
import type { Env } from '../edge/env'

export type AuditEntry = Omit<AuditContent, 'seq' | 'at'>

/**
 * The single writer of the audit log. One object orders every append, so the chain has no
 * forks; D1 holds the rows and is the truth about the chain's head, which this object reloads
 * whenever it starts or an insert finds the head moved.
 */
export class AuditSequencer extends DurableObject<Env> {
  private head?: { seq: number; hash: string }
  private tail: Promise<unknown> = Promise.resolve()

  /** Appends entries in order and resolves once they are in D1. */
  async append(entries: AuditEntry[]): Promise<{ seq: number; hash: string }[]> {
    const run = this.tail.then(() => this.write(entries))
    this.tail = run.catch(() => undefined)
    return run
  }

  private async write(entries: AuditEntry[]) {
    for (let attempt = 0; ; attempt++) {
      const head = this.head ?? (await this.loadHead())
      const at = new Date().toISOString()
      const rows: (AuditContent & { prevHash: string; hash: string })[] = []
      let prev = head
      for (const entry of entries) {
        const content: AuditContent = { ...entry, seq: prev.seq + 1, at }
        const hash = await chainHash(prev.hash, content)
        rows.push({ ...content, prevHash: prev.hash, hash })
        prev = { seq: content.seq, hash }
      }
      try {
        await this.env.DB.batch(
          rows.map((row) =>
            this.env.DB.prepare(
              `INSERT INTO audit_log (seq, at, actor_key_id, actor_role, action, subject_hash, status,
               detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            ).bind(
              row.seq,
              row.at,
              row.actorKeyId,
              row.actorRole,
              row.action,
              row.subjectHash,
              row.status,
              row.detail === null ? null : JSON.stringify(row.detail),
              row.prevHash,
              row.hash,
            ),
          ),
        )
        this.head = prev
        return rows.map((row) => ({ seq: row.seq, hash: row.hash }))
      } catch (error) {
        this.head = undefined
        if (attempt >= 2) throw error
      }
    }
  }

  private async loadHead() {
    const row = await this.env.DB.prepare(
      'SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1',
    ).first<{
      seq: number
      hash: string
    }>()
    this.head = row ?? { seq: 0, hash: GENESIS_HASH }
    return this.head
  }
}
