import type { Counter } from './contact-counters'
import { ALL_EVENTS, SITE_EVENTS } from './contact-counters'
import type { ScheduleEntry } from './scheduler'
import type { MembershipKind, MembershipRow } from './facets/memberships'
import { COUNTED_PROPERTIES_KEY, READ_ALL_UP_TO, countedEventsQuery } from './facets/events'

/**
 * What a ContactDO reads when it wakes, in one query. A contact is usually woken by a single
 * event, and each distinct statement costs a fresh object far more than the rows it reads, so
 * the small tables every ingest consults (meta, identities, traits, the all-events counter,
 * the time of the last on-site event, the newest own data key, how many consent and outbox rows
 * exist, the newest event's seq, its segments and lists, and the events its segments count)
 * come back together.
 */
export interface ActivationState {
  meta: [string, string][]
  identities: { kind: string; value: string; status: string }[]
  traits: { key: string; value: string; updatedAt: number }[]
  total: Counter | null
  /** Time of the contact's last on-site event (see contact-counters.ts SITE_EVENTS). */
  siteLastAt: number | null
  ownDataKey: { keyId: string; raw: string } | null
  consentRows: number
  outboxRows: number
  /** Seq of the newest stored event, 0 for none (see outbox.ts for why it matters). */
  lastSeq: number
  schedule: ScheduleEntry[]
  /** Segments the contact is in and lists it is on, with since when (facets/memberships.ts). */
  memberships: MembershipRow[]
  /**
   * The events segment rules count, as facets/events.ts reads them (its JSON rows), when the
   * contact's segments read events and it holds no more than READ_ALL_UP_TO; else null.
   */
  counted: string | null
}

// Scalar subqueries rather than a UNION: Durable Objects' SQLite caps compound SELECTs.
const QUERY = `SELECT
  (SELECT json_group_array(json_array(key, value)) FROM meta) AS meta,
  (SELECT json_group_array(json_array(kind, value, status)) FROM identities) AS identities,
  (SELECT json_group_array(json_array(key, value, updated_at)) FROM traits) AS traits,
  (SELECT json_array(count, first_at, last_at) FROM counters WHERE name = ?) AS total,
  (SELECT last_at FROM counters WHERE name = ?) AS site_last_at,
  (SELECT json_array(key_id, raw) FROM data_keys WHERE origin = 'own'
    ORDER BY created_at DESC LIMIT 1) AS own_key,
  (SELECT COUNT(*) FROM consent_ledger) AS consent_rows,
  (SELECT COUNT(*) FROM outbox) AS outbox_rows,
  (SELECT MAX(seq) FROM events) AS last_seq,
  (SELECT json_group_array(json_array(id, due_at, kind, payload)) FROM schedule) AS schedule,
  (SELECT json_group_array(json_array(kind, id, since)) FROM memberships) AS memberships,
  (SELECT CASE WHEN coalesce((SELECT count FROM counters WHERE name = ?), 0) <= ${READ_ALL_UP_TO}
      THEN (${countedEventsQuery('reads.value')}) END
    FROM meta AS reads WHERE reads.key = '${COUNTED_PROPERTIES_KEY}') AS counted`

type Row = {
  meta: string
  identities: string
  traits: string
  total: string | null
  site_last_at: number | null
  own_key: string | null
  consent_rows: number
  outbox_rows: number
  last_seq: number | null
  schedule: string
  memberships: string
  counted: string | null
}

/** For an object that holds the contact's tables (contact-schema.ts `storedSchema`). */
export function readActivationState(sql: SqlStorage): ActivationState {
  const row = sql.exec<Row>(QUERY, ALL_EVENTS, SITE_EVENTS, ALL_EVENTS).one()
  const total = row.total ? (JSON.parse(row.total) as [number, number, number]) : null
  const ownKey = row.own_key ? (JSON.parse(row.own_key) as [string, string]) : null
  return {
    meta: JSON.parse(row.meta) as [string, string][],
    identities: (JSON.parse(row.identities) as [string, string, string][]).map(
      ([kind, value, status]) => ({ kind, value, status }),
    ),
    traits: (JSON.parse(row.traits) as [string, string, number][]).map(
      ([key, value, updatedAt]) => ({ key, value, updatedAt }),
    ),
    total: total ? { count: total[0], firstAt: total[1], lastAt: total[2] } : null,
    siteLastAt: row.site_last_at,
    ownDataKey: ownKey ? { keyId: ownKey[0], raw: ownKey[1] } : null,
    consentRows: row.consent_rows,
    outboxRows: row.outbox_rows,
    lastSeq: row.last_seq ?? 0,
    schedule: (JSON.parse(row.schedule) as [string, number, string, string | null][]).map(
      ([id, dueAt, kind, payload]) => ({ id, dueAt, kind, payload }),
    ),
    memberships: (JSON.parse(row.memberships) as [MembershipKind, string, number][]).map(
      ([kind, id, since]) => ({ kind, id, since }),
    ),
    counted: row.counted,
  }
}
