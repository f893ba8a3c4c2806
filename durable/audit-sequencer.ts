import { DurableObject } from 'cloudflare:workers'
import { chainHash, GENESIS_HASH, type AuditContent } from '../domain/audit-chain'
import type { Env } from '../edge/env'

export type AuditEntry = Omit<AuditContent, 'seq' | 'at'>

/** The last seq the sequencer has handed out, and the hash the next row chains from. */
export interface ChainHead {
  seq: number
  hash: string
}

/**
 * The single writer of the audit log. One object orders every append, so the chain has no
 * forks. D1 holds the rows; this object's own storage records the chain's head after every
 * append, because a chain checked only against itself cannot tell a log whose last rows were
 * deleted from a shorter one. `head()` gives the verifier that record to compare D1 with.
 *
 * The record, not D1's tail, is the truth about the head:
 * - D1 behind the record (rows removed from the end): appends continue after the record, so
 *   the gap stays in the log and every later verification names it; the chain never silently
 *   restarts from the truncated point.
 * - D1 ahead of the record: a 'pending' record is written before each D1 batch, so rows of a
 *   batch that committed while this object crashed or lost the answer are recognised and
 *   adopted. Rows nobody recorded are never chained onto: appends take the next free seq and
 *   chain from the recorded hash, so the foreign rows show as a break.
 * - No record at all (the first start, or an upgrade from before the record existed): D1's tail
 *   is adopted, since there is nothing to compare it with.
 */
export class AuditSequencer extends DurableObject<Env> {
  private current?: ChainHead
  private queue: Promise<unknown> = Promise.resolve()

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS chain_head (
         slot TEXT PRIMARY KEY CHECK (slot IN ('head', 'pending')),
         seq INTEGER NOT NULL,
         hash TEXT NOT NULL)`,
    )
  }

  /** Appends entries in order and resolves once they are in D1. */
  append(entries: AuditEntry[]): Promise<ChainHead[]> {
    return this.serially(() => this.write(entries))
  }

  /** The recorded head, once every append called before it has finished. */
  head(): Promise<ChainHead> {
    return this.serially(() => this.loadHead())
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async write(entries: AuditEntry[]): Promise<ChainHead[]> {
    for (let attempt = 0; ; attempt++) {
      const head = await this.loadHead()
      const at = new Date().toISOString()
      const rows: (AuditContent & { prevHash: string; hash: string })[] = []
      let prev = head
      for (const entry of entries) {
        const content: AuditContent = { ...entry, seq: prev.seq + 1, at }
        const hash = await chainHash(prev.hash, content)
        rows.push({ ...content, prevHash: prev.hash, hash })
        prev = { seq: content.seq, hash }
      }
      if (rows.length === 0) return []
      this.record('pending', prev)
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
      } catch (error) {
        // The batch may have committed though its answer was lost; or rows this object never
        // wrote may hold these seqs, which are then skipped (not chained onto).
        const tail = await this.d1Tail()
        if (!sameHead(tail, prev)) {
          this.forget('pending')
          if (tail && tail.seq >= rows[0]!.seq) this.commit({ seq: tail.seq, hash: head.hash })
          if (attempt >= 2) throw error
          continue
        }
      }
      this.commit(prev)
      return rows.map((row) => ({ seq: row.seq, hash: row.hash }))
    }
  }

  private async loadHead(): Promise<ChainHead> {
    if (this.current) return this.current
    let head = this.read('head')
    const pending = this.read('pending')
    if (pending) {
      if (sameHead(await this.d1Tail(), pending)) head = pending
      this.forget('pending')
    }
    head ??= (await this.d1Tail()) ?? { seq: 0, hash: GENESIS_HASH }
    this.commit(head)
    return head
  }

  private commit(head: ChainHead) {
    this.record('head', head)
    this.forget('pending')
    this.current = head
  }

  private record(slot: 'head' | 'pending', head: ChainHead) {
    this.ctx.storage.sql.exec(
      'INSERT OR REPLACE INTO chain_head (slot, seq, hash) VALUES (?, ?, ?)',
      slot,
      head.seq,
      head.hash,
    )
  }

  private forget(slot: 'pending') {
    this.ctx.storage.sql.exec('DELETE FROM chain_head WHERE slot = ?', slot)
  }

  private read(slot: 'head' | 'pending'): ChainHead | undefined {
    const [row] = this.ctx.storage.sql
      .exec<{ seq: number; hash: string }>('SELECT seq, hash FROM chain_head WHERE slot = ?', slot)
      .toArray()
    return row && { seq: row.seq, hash: row.hash }
  }

  private async d1Tail(): Promise<ChainHead | null> {
    return this.env.DB.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').first<{
      seq: number
      hash: string
    }>()
  }
}

function sameHead(a: ChainHead | null | undefined, b: ChainHead): boolean {
  return a?.seq === b.seq && a.hash === b.hash
}
