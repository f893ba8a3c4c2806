import type { ContactProfile } from '../../contracts/contact-profile'
import type { IncomingEvent, StoredEvent } from '../../contracts/stored-event'
import type { ActivationState } from '../activation'
import { iso, type Facet } from '../facet'

export type IdentityRow = {
  kind: string
  value: string
  status: string
  linked_at: number
}

/** A status: linked by an event, merged in from an anonymous contact, or claimed by another. */
const CONFLICT = 'conflict'

/**
 * The identifiers linked to the contact (table identities): its user and anonymous ids, the
 * emails its identifies named, the anonymous contacts it absorbed and those it could not. Kept
 * in memory as `kind:value` → status: most events repeat the contact's own ids.
 */
export class Identities implements Facet<IdentityRow[]> {
  readonly tables = ['identities'] as const
  private statuses?: Map<string, string>

  constructor(private readonly sql: SqlStorage) {}

  prime(state: Omit<ActivationState, 'meta'>) {
    this.statuses = new Map(state.identities.map((row) => [`${row.kind}:${row.value}`, row.status]))
  }

  forget() {
    this.statuses = undefined
  }

  onEvent(event: StoredEvent, at: number) {
    if (event.userId) this.link('userId', event.userId, at)
    if (event.anonymousId) this.link('anonymousId', event.anonymousId, at)
    if (event.enrichment.bot) return
    const email = linkedEmail(event)
    if (email) this.link('email', email, at)
  }

  has(kind: string, value: string): boolean {
    return this.status().has(`${kind}:${value}`)
  }

  /** The anonymous ids that are the contact's own or merged into it. */
  anonymousIds(): string[] {
    const ids: string[] = []
    for (const [id, status] of this.status()) {
      if (id.startsWith('anonymousId:') && status !== CONFLICT) {
        ids.push(id.slice('anonymousId:'.length))
      }
    }
    return ids
  }

  /** Every identifier that is the person's (an erasure follows and suppresses them). */
  linked(): { kind: string; value: string }[] {
    return this.sql
      .exec<{ kind: string; value: string }>(
        'SELECT kind, value FROM identities WHERE status != ?',
        CONFLICT,
      )
      .toArray()
  }

  /** The anonymous contact `anonymousId` now lives in this one. */
  markMerged(anonymousId: string, now: number) {
    this.sql.exec(
      `INSERT OR REPLACE INTO identities (kind, value, status, linked_at) VALUES ('anonymousId', ?, 'merged', ?)`,
      anonymousId,
      now,
    )
    this.statuses = undefined
  }

  /** Another identified contact absorbed `anonymousId` first: shown, never followed. */
  markConflict(anonymousId: string, now: number, detail: string) {
    this.sql.exec(
      `INSERT OR IGNORE INTO identities (kind, value, status, linked_at, detail) VALUES ('anonymousId', ?, ?, ?, ?)`,
      anonymousId,
      CONFLICT,
      now,
      detail,
    )
    this.statuses = undefined
  }

  handOver(): IdentityRow[] {
    return this.sql
      .exec<IdentityRow>('SELECT kind, value, status, linked_at FROM identities')
      .toArray()
  }

  absorb(rows: IdentityRow[]) {
    for (const identity of rows) {
      this.sql.exec(
        'INSERT OR IGNORE INTO identities (kind, value, status, linked_at) VALUES (?, ?, ?, ?)',
        identity.kind,
        identity.value,
        identity.status,
        identity.linked_at,
      )
    }
    this.statuses = undefined
  }

  profile(): Pick<ContactProfile, 'anonymousIds' | 'identities'> {
    const rows = this.sql
      .exec<IdentityRow & { detail: string | null }>(
        'SELECT kind, value, status, linked_at, detail FROM identities ORDER BY linked_at',
      )
      .toArray()
    return {
      anonymousIds: rows
        .filter((i) => i.kind === 'anonymousId' && i.status !== CONFLICT)
        .map((i) => i.value),
      identities: rows.map((row) => ({
        kind: row.kind,
        value: row.value,
        status: row.status,
        linkedAt: iso(row.linked_at),
        ...(row.detail ? { detail: row.detail } : {}),
      })),
    }
  }

  /** Links an identifier unless already linked. */
  private link(kind: string, value: string, at: number) {
    const known = this.status()
    const id = `${kind}:${value}`
    if (known.has(id)) return
    this.sql.exec(
      `INSERT OR IGNORE INTO identities (kind, value, status, linked_at) VALUES (?, ?, 'linked', ?)`,
      kind,
      value,
      at,
    )
    known.set(id, 'linked')
  }

  private status(): Map<string, string> {
    this.statuses ??= new Map(
      this.sql
        .exec<{ kind: string; value: string; status: string }>(
          'SELECT kind, value, status FROM identities',
        )
        .toArray()
        .map((row) => [`${row.kind}:${row.value}`, row.status]),
    )
    return this.statuses
  }
}

/** The email an identify links to its contact, normalised as erasure requests are. */
export function linkedEmail(event: IncomingEvent): string | null {
  const email = event.type === 'identify' ? event.traits?.email : undefined
  return typeof email === 'string' && email.trim() ? email.trim().toLowerCase() : null
}
