import type { ContactProfile } from '../../contracts/contact-profile'
import type { ActivationState } from '../activation'
import { iso, type Facet } from '../facet'
import { execRows } from '../multi-row'

/** A segment the contact is in (decided by contact-segments.ts), or a manual list it is on. */
export type MembershipKind = 'segment' | 'list'

export type MembershipRow = { kind: MembershipKind; id: string; since: number }

/** A segment or list id, and whether the contact is to be in it. */
export type Move = readonly [id: string, member: boolean]

/**
 * The segments the contact is in and the manual lists it is on, with since when (table
 * memberships: one table for both, as each table costs every contact a page), kept in memory:
 * every snapshot names them.
 */
export class Memberships implements Facet<MembershipRow[]> {
  readonly tables = ['memberships'] as const
  private byKind?: Record<MembershipKind, Map<string, number>>

  constructor(private readonly sql: SqlStorage) {}

  prime(state: Omit<ActivationState, 'meta'>) {
    this.byKind = group(state.memberships)
  }

  forget() {
    this.byKind = undefined
  }

  /** Id → since (ms). */
  of(kind: MembershipKind): ReadonlyMap<string, number> {
    return this.rows()[kind]
  }

  has(kind: MembershipKind, id: string): boolean {
    return this.rows()[kind].has(id)
  }

  /** Adds or removes one; whether that changed anything. */
  set(kind: MembershipKind, id: string, member: boolean, at: number): boolean {
    return this.setAll(kind, [[id, member]], at).length > 0
  }

  /**
   * Adds or removes each (id, member), in a statement for the additions and one for the removals
   * (a segment round moves several: a first visit enters five to eight); those that changed.
   */
  setAll(kind: MembershipKind, moves: readonly Move[], at: number): Move[] {
    const rows = this.rows()[kind]
    const changed = moves.filter(([id, member]) => rows.has(id) !== member)
    const added = changed.filter(([, member]) => member).map(([id]) => [kind, id, at])
    const removed = changed.filter(([, member]) => !member).map(([id]) => [kind, id])
    if (added.length > 0) execRows(this.sql, 'INSERT INTO memberships (kind, id, since)', added)
    if (removed.length > 0) {
      execRows(this.sql, 'DELETE FROM memberships WHERE (kind, id) IN (', removed, ')')
    }
    for (const [id, member] of changed) {
      if (member) rows.set(id, at)
      else rows.delete(id)
    }
    return changed
  }

  handOver(): MembershipRow[] {
    return (['segment', 'list'] as const).flatMap((kind) =>
      [...this.of(kind)].map(([id, since]) => ({ kind, id, since })),
    )
  }

  /**
   * On a list or in a segment under either identity: the earlier since stays. The merged
   * contact's segments are evaluated again in the transaction of the events that follow, which
   * ends what no longer holds.
   */
  absorb(rows: MembershipRow[]) {
    for (const row of rows) {
      this.sql.exec(
        `INSERT INTO memberships (kind, id, since) VALUES (?, ?, ?)
         ON CONFLICT (kind, id) DO UPDATE SET since = MIN(since, excluded.since)`,
        row.kind,
        row.id,
        row.since,
      )
    }
    this.byKind = undefined
  }

  profile(): Pick<ContactProfile, 'segments' | 'segmentMemberships' | 'lists'> {
    const memberships = [...this.of('segment')]
      .sort((a, b) => a[1] - b[1])
      .map(([id, since]) => ({ id, since: iso(since) }))
    return {
      segments: memberships.map((m) => m.id),
      segmentMemberships: memberships,
      lists: [...this.of('list').keys()].sort(),
    }
  }

  private rows(): Record<MembershipKind, Map<string, number>> {
    this.byKind ??= group(
      this.sql.exec<MembershipRow>('SELECT kind, id, since FROM memberships').toArray(),
    )
    return this.byKind
  }
}

function group(rows: readonly MembershipRow[]): Record<MembershipKind, Map<string, number>> {
  const byKind = { segment: new Map<string, number>(), list: new Map<string, number>() }
  for (const row of rows) byKind[row.kind].set(row.id, row.since)
  return byKind
}
