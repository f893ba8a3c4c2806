import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../edge/env'

export interface SlotLimits {
  /** Open streams one holder (a key) may have. */
  perHolder: number
  /** Open streams of every holder together. */
  total: number
  /** How long a slot is held at most: longer than a stream may last, so a lost release expires. */
  leaseMs: number
}

export type SlotGrant =
  | { ok: true; lease: string }
  | { ok: false; scope: 'key' | 'total'; limit: number; retryAfterSeconds: number }

/**
 * Counts the open live streams of every isolate and location: one object holds a lease per open
 * stream in its SQLite storage. An in-memory count would be per isolate, and a deployment runs
 * many, so it would bound nothing. A stream releases its lease when it closes or its client goes
 * away; a lease whose release never arrives (the isolate was evicted mid-stream) expires after
 * `leaseMs`, which is longer than any stream may last (insights.ts LIVE_STREAM_MS).
 */
export class LiveStreamSlots extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS leases (
         id TEXT PRIMARY KEY,
         holder TEXT NOT NULL,
         expires_at INTEGER NOT NULL);
       CREATE INDEX IF NOT EXISTS leases_by_holder ON leases (holder, expires_at)`,
    )
  }

  /** A slot for one more stream of `holder`, or which limit it would pass and until when. */
  acquire(holder: string, limits: SlotLimits): SlotGrant {
    const sql = this.ctx.storage.sql
    const now = Date.now()
    sql.exec('DELETE FROM leases WHERE expires_at <= ?', now)
    const count = (where: string, ...bindings: unknown[]) =>
      sql
        .exec<{ n: number; first: number | null }>(
          `SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM leases ${where}`,
          ...bindings,
        )
        .one()
    const refuse = (scope: 'key' | 'total', limit: number, first: number | null): SlotGrant => ({
      ok: false,
      scope,
      limit,
      retryAfterSeconds: Math.max(1, Math.ceil(((first ?? now) - now) / 1000)),
    })
    const mine = count('WHERE holder = ?', holder)
    if (mine.n >= limits.perHolder) return refuse('key', limits.perHolder, mine.first)
    const all = count('')
    if (all.n >= limits.total) return refuse('total', limits.total, all.first)
    const lease = crypto.randomUUID()
    sql.exec(
      'INSERT INTO leases (id, holder, expires_at) VALUES (?, ?, ?)',
      lease,
      holder,
      now + limits.leaseMs,
    )
    return { ok: true, lease }
  }

  release(lease: string): void {
    this.ctx.storage.sql.exec('DELETE FROM leases WHERE id = ?', lease)
  }

  /** Streams open now, for one holder or all. */
  open(holder?: string): number {
    const now = Date.now()
    return this.ctx.storage.sql
      .exec<{ n: number }>(
        `SELECT COUNT(*) AS n FROM leases WHERE expires_at > ? ${holder === undefined ? '' : 'AND holder = ?'}`,
        ...(holder === undefined ? [now] : [now, holder]),
      )
      .one().n
  }
}
