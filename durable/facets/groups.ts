import type { ContactProfile } from '../../contracts/contact-profile'
import type { StoredEvent } from '../../contracts/stored-event'
import { iso, type Facet } from '../facet'

export type GroupRow = {
  group_id: string
  traits: string
  joined_at: number
  updated_at: number
}

/** The accounts the contact belongs to (table groups), from group events: newest traits win. */
export class Groups implements Facet<GroupRow[]> {
  readonly tables = ['groups'] as const

  constructor(private readonly sql: SqlStorage) {}

  prime() {}

  forget() {}

  onEvent(event: StoredEvent, at: number) {
    if (event.enrichment.bot || event.type !== 'group' || !event.groupId) return
    this.sql.exec(
      `INSERT INTO groups (group_id, traits, joined_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET traits = excluded.traits, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= groups.updated_at`,
      event.groupId,
      JSON.stringify(event.traits ?? {}),
      at,
      at,
    )
  }

  /** Each account's traits, as segment rules on accounts read them. */
  accountTraits(): Record<string, unknown>[] {
    return this.sql
      .exec<{ traits: string }>('SELECT traits FROM groups')
      .toArray()
      .map((row) => JSON.parse(row.traits) as Record<string, unknown>)
  }

  handOver(): GroupRow[] {
    return this.sql
      .exec<GroupRow>('SELECT group_id, traits, joined_at, updated_at FROM groups')
      .toArray()
  }

  absorb(rows: GroupRow[]) {
    for (const group of rows) {
      this.sql.exec(
        `INSERT INTO groups (group_id, traits, joined_at, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET joined_at = MIN(joined_at, excluded.joined_at)`,
        group.group_id,
        group.traits,
        group.joined_at,
        group.updated_at,
      )
    }
  }

  profile(): Pick<ContactProfile, 'groups'> {
    return {
      groups: this.sql
        .exec<GroupRow>('SELECT group_id, traits, joined_at FROM groups')
        .toArray()
        .map((row) => ({
          groupId: row.group_id,
          traits: JSON.parse(row.traits),
          joinedAt: iso(row.joined_at),
        })),
    }
  }
}
