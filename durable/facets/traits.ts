import type { ContactProfile } from '../../contracts/contact-profile'
import type { StoredEvent } from '../../contracts/stored-event'
import type { ActivationState } from '../activation'
import { iso, type Facet } from '../facet'

type TraitChange = {
  key: string
  old_value: string | null
  new_value: string
  changed_at: number
  message_id: string | null
}

export interface TraitsPart {
  traits: { key: string; value: string; updated_at: number; message_id: string | null }[]
  traitChanges: TraitChange[]
}

/** Profile traits shown with their history, newest first, at most this many changes. */
const HISTORY_SHOWN = 200

/**
 * The contact's traits (table traits, JSON values, kept in memory: every snapshot reads them)
 * and every change to them (trait_changes). Set by identify events, last write by event time.
 */
export class Traits implements Facet<TraitsPart> {
  readonly tables = ['traits', 'trait_changes'] as const
  private values?: Map<string, { value: string; updatedAt: number }>

  constructor(private readonly sql: SqlStorage) {}

  prime(state: Omit<ActivationState, 'meta'>) {
    this.values = new Map(
      state.traits.map((row) => [row.key, { value: row.value, updatedAt: row.updatedAt }]),
    )
  }

  forget() {
    this.values = undefined
  }

  onEvent(event: StoredEvent, at: number) {
    if (event.enrichment.bot || event.type !== 'identify' || !event.traits) return
    for (const [name, value] of Object.entries(event.traits)) {
      this.apply(name, JSON.stringify(value ?? null), at, event.messageId, true)
    }
  }

  /**
   * Sets traits other than by an identify event (a journey's updateTraits node), with their
   * history; the names of those that changed.
   */
  set(traits: Record<string, unknown>, at: number, source: string): string[] {
    const changed: string[] = []
    for (const [name, value] of Object.entries(traits)) {
      const json = JSON.stringify(value ?? null)
      if (this.rows().get(name)?.value === json) continue
      this.apply(name, json, at, source, true)
      changed.push(name)
    }
    return changed
  }

  /** The traits as values. */
  all(): Record<string, unknown> {
    const traits: Record<string, unknown> = {}
    for (const [key, { value }] of this.rows()) traits[key] = JSON.parse(value)
    return traits
  }

  handOver(): TraitsPart {
    return {
      traits: this.sql
        .exec<TraitsPart['traits'][number]>('SELECT key, value, updated_at, message_id FROM traits')
        .toArray(),
      traitChanges: this.sql
        .exec<TraitChange>(
          'SELECT key, old_value, new_value, changed_at, message_id FROM trait_changes ORDER BY seq',
        )
        .toArray(),
    }
  }

  absorb(part: TraitsPart) {
    for (const trait of part.traits) {
      this.apply(trait.key, trait.value, trait.updated_at, trait.message_id, false)
    }
    for (const change of part.traitChanges) {
      this.sql.exec(
        'INSERT INTO trait_changes (key, old_value, new_value, changed_at, message_id) VALUES (?, ?, ?, ?, ?)',
        change.key,
        change.old_value,
        change.new_value,
        change.changed_at,
        change.message_id,
      )
    }
  }

  profile(): Pick<ContactProfile, 'traits' | 'traitHistory'> {
    return {
      traits: this.all(),
      traitHistory: this.sql
        .exec<TraitChange>(
          'SELECT key, old_value, new_value, changed_at, message_id FROM trait_changes ORDER BY seq DESC LIMIT ?',
          HISTORY_SHOWN,
        )
        .toArray()
        .map((row) => ({
          key: row.key,
          from: row.old_value === null ? null : JSON.parse(row.old_value),
          to: JSON.parse(row.new_value),
          at: iso(row.changed_at),
          messageId: row.message_id,
        })),
    }
  }

  /**
   * Last write wins by event time, so an identify that arrives late (an offline queue flushing)
   * never overwrites a newer value; every change is kept in the history either way.
   */
  private apply(
    name: string,
    value: string,
    at: number,
    messageId: string | null,
    record: boolean,
  ) {
    const traits = this.rows()
    const current = traits.get(name)
    if (current && (current.value === value || current.updatedAt > at)) return
    traits.set(name, { value, updatedAt: at })
    this.sql.exec(
      `INSERT INTO traits (key, value, updated_at, message_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
       message_id = excluded.message_id`,
      name,
      value,
      at,
      messageId,
    )
    if (record) {
      this.sql.exec(
        'INSERT INTO trait_changes (key, old_value, new_value, changed_at, message_id) VALUES (?, ?, ?, ?, ?)',
        name,
        current?.value ?? null,
        value,
        at,
        messageId,
      )
    }
  }

  private rows(): Map<string, { value: string; updatedAt: number }> {
    this.values ??= new Map(
      this.sql
        .exec<{ key: string; value: string; updated_at: number }>(
          'SELECT key, value, updated_at FROM traits',
        )
        .toArray()
        .map((row) => [row.key, { value: row.value, updatedAt: row.updated_at }]),
    )
    return this.values
  }
}
