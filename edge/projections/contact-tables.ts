import { sql, type SQL } from 'drizzle-orm'

/**
 * Every D1 table that holds a contact's key or identifiers, and what a merge, an erasure and
 * retention do to it. The queue consumer's merge, the erasure and the retention cron all loop
 * over this one list, and `contact-tables.test.ts` checks it against the schema: a table with a
 * contact column that is missing here fails the tests, so none can be forgotten by one of them.
 */

/** A person being erased: JSON lists of their contact keys and identifiers, bound as text. */
export interface ErasedPerson {
  keys: string
  userIds: string
  anonymousIds: string
  emails: string
  /** Every identifier value (keys, ids and emails). */
  values: string
}

export interface RetentionCutoff {
  /** ISO timestamp before which raw, per-event data expires. */
  at: string
  /** The same instant's day (YYYY-MM-DD). */
  day: string
}

export interface ContactTable {
  table: string
  /** Columns that hold a contact key or one of a person's identifiers. */
  columns: readonly string[]
  /**
   * Moves `from`'s rows onto `into` after an anonymous contact was absorbed. `live` is a
   * condition that is false when either contact was erased meanwhile: a merge still queued
   * after an erasure must not link or move anything.
   */
  merge(from: string, into: string, live: SQL, at: string): SQL[]
  /** Removes the person's rows, or unlinks them where the rest is an aggregate. */
  erase(person: ErasedPerson): SQL
  /** Ends per-event data past the raw-event retention; tables without such data have none. */
  expire?(cutoff: RetentionCutoff): SQL
}

const list = (json: string) => sql`(SELECT value FROM json_each(${json}))`

/** Rows move to the absorbing contact; a row `into` already has (same key) is dropped. */
function rekey(table: string, column: string) {
  return (from: string, into: string, live: SQL): SQL[] => [
    sql`UPDATE OR IGNORE ${sql.identifier(table)} SET ${sql.identifier(column)} = ${into}
      WHERE ${sql.identifier(column)} = ${from} AND ${live}`,
    sql`DELETE FROM ${sql.identifier(table)} WHERE ${sql.identifier(column)} = ${from} AND ${live}`,
  ]
}

/** The absorbed contact's rows go: the absorbing contact's object sends what holds now. */
function dropOf(table: string) {
  return (from: string, _into: string, live: SQL): SQL[] => [
    sql`DELETE FROM ${sql.identifier(table)} WHERE contact_key = ${from} AND ${live}`,
  ]
}

const byKey = (table: string) => (person: ErasedPerson) =>
  sql`DELETE FROM ${sql.identifier(table)} WHERE contact_key IN ${list(person.keys)}`

export const CONTACT_TABLES: readonly ContactTable[] = [
  {
    table: 'events',
    columns: ['contact_key', 'user_id', 'anonymous_id'],
    merge: rekey('events', 'contact_key'),
    erase: (p) =>
      sql`DELETE FROM events WHERE contact_key IN ${list(p.keys)}
        OR user_id IN ${list(p.userIds)} OR anonymous_id IN ${list(p.anonymousIds)}`,
    expire: ({ at }) => sql`DELETE FROM events WHERE timestamp < ${at}`,
  },
  {
    table: 'contacts',
    columns: ['key', 'user_id', 'email', 'anonymous_ids', 'merged_into'],
    // The absorbed contact's row stays as a pointer: lists show only contacts not merged.
    merge: (from, into, live) => [
      sql`UPDATE contacts SET merged_into = ${into} WHERE key = ${from} AND ${live}`,
    ],
    erase: (p) =>
      sql`DELETE FROM contacts WHERE key IN ${list(p.keys)} OR merged_into IN ${list(p.keys)}
        OR email IN ${list(p.emails)}`,
  },
  {
    table: 'identities',
    columns: ['contact_key', 'value'],
    merge: rekey('identities', 'contact_key'),
    erase: (p) =>
      sql`DELETE FROM identities WHERE contact_key IN ${list(p.keys)} OR value IN ${list(p.values)}`,
  },
  {
    table: 'merges',
    columns: ['from_key', 'into_key'],
    merge: (from, into, live, at) => [
      sql`INSERT OR IGNORE INTO merges (from_key, into_key, merged_at)
        SELECT ${from}, ${into}, ${at} WHERE ${live}`,
    ],
    erase: (p) =>
      sql`DELETE FROM merges WHERE from_key IN ${list(p.keys)} OR into_key IN ${list(p.keys)}`,
  },
  {
    table: 'contact_days',
    columns: ['contact_key'],
    merge: rekey('contact_days', 'contact_key'),
    erase: byKey('contact_days'),
    expire: ({ day }) => sql`DELETE FROM contact_days WHERE day < ${day}`,
  },
  {
    table: 'contact_consent',
    columns: ['contact_key'],
    // One person, one row: the newer of the two decisions stays until the absorbing contact's
    // object sends the state of the merged ledger.
    merge: (from, into, live) => [
      sql`INSERT INTO contact_consent (contact_key, analytics, marketing, personalization,
          advertising, updated_at)
        SELECT ${into}, analytics, marketing, personalization, advertising, updated_at
        FROM contact_consent WHERE contact_key = ${from} AND ${live}
        ON CONFLICT (contact_key) DO UPDATE SET analytics = excluded.analytics,
          marketing = excluded.marketing, personalization = excluded.personalization,
          advertising = excluded.advertising, updated_at = excluded.updated_at
        WHERE excluded.updated_at > contact_consent.updated_at`,
      sql`DELETE FROM contact_consent WHERE contact_key = ${from} AND ${live}`,
    ],
    erase: byKey('contact_consent'),
  },
  {
    table: 'touches',
    columns: ['contact_key'],
    merge: rekey('touches', 'contact_key'),
    erase: byKey('touches'),
    expire: ({ at }) => sql`DELETE FROM touches WHERE at < ${at}`,
  },
  {
    // The path is channel names and the credits aggregates: only the link to the person goes.
    table: 'conversions',
    columns: ['contact_key'],
    merge: rekey('conversions', 'contact_key'),
    erase: (p) =>
      sql`UPDATE conversions SET contact_key = NULL WHERE contact_key IN ${list(p.keys)}`,
    expire: ({ at }) =>
      sql`UPDATE conversions SET contact_key = NULL WHERE at < ${at} AND contact_key IS NOT NULL`,
  },
  {
    // The absorbing contact's snapshot names its memberships after the merge is evaluated.
    table: 'segment_members',
    columns: ['contact_key'],
    merge: dropOf('segment_members'),
    erase: byKey('segment_members'),
  },
  {
    table: 'list_members',
    columns: ['contact_key'],
    merge: rekey('list_members', 'contact_key'),
    erase: byKey('list_members'),
  },
  {
    table: 'contact_accounts',
    columns: ['contact_key'],
    merge: rekey('contact_accounts', 'contact_key'),
    erase: byKey('contact_accounts'),
  },
  {
    table: 'message_events',
    columns: ['contact_key'],
    merge: rekey('message_events', 'contact_key'),
    erase: byKey('message_events'),
    expire: ({ at }) => sql`DELETE FROM message_events WHERE at < ${at}`,
  },
  {
    table: 'contact_subscriptions',
    columns: ['contact_key'],
    merge: rekey('contact_subscriptions', 'contact_key'),
    erase: byKey('contact_subscriptions'),
  },
  {
    table: 'messages',
    columns: ['contact_key'],
    merge: rekey('messages', 'contact_key'),
    erase: byKey('messages'),
  },
  {
    // The rendered copies the `log` provider kept: the address and the content are the person's.
    table: 'logged_emails',
    columns: ['contact_key', 'to_address'],
    merge: rekey('logged_emails', 'contact_key'),
    erase: (p) =>
      sql`DELETE FROM logged_emails WHERE contact_key IN ${list(p.keys)}
        OR to_address IN ${list(p.emails)}`,
    expire: ({ at }) => sql`DELETE FROM logged_emails WHERE created_at < ${at}`,
  },
  {
    // A run handed over on a merge goes on in the absorbing contact's object under the same id.
    table: 'journey_runs',
    columns: ['contact_key'],
    merge: rekey('journey_runs', 'contact_key'),
    erase: byKey('journey_runs'),
  },
  {
    // Per-event data like the events: past retention a step goes, and the per-node counts of
    // the metrics with it; the runs (one row each, no event) stay.
    table: 'journey_steps',
    columns: ['contact_key'],
    merge: rekey('journey_steps', 'contact_key'),
    erase: byKey('journey_steps'),
    expire: ({ at }) => sql`DELETE FROM journey_steps WHERE at < ${at}`,
  },
  {
    // A job's outcome keeps it from being sent twice only while the queue may deliver it again.
    table: 'journey_actions',
    columns: ['contact_key'],
    merge: rekey('journey_actions', 'contact_key'),
    erase: byKey('journey_actions'),
    expire: ({ at }) => sql`DELETE FROM journey_actions WHERE updated_at < ${at}`,
  },
  {
    // Predictions describe one contact's history: the absorbing contact's are computed anew.
    table: 'contact_predictions',
    columns: ['contact_key'],
    merge: dropOf('contact_predictions'),
    erase: byKey('contact_predictions'),
  },
  {
    // Whole bundles as the queue carried them (emails and traits included): a person's are
    // dropped with them, found by any identifier as a JSON string anywhere in the text.
    table: 'dead_letters',
    columns: ['body'],
    merge: () => [],
    erase: (p) =>
      sql`DELETE FROM dead_letters WHERE EXISTS (SELECT 1 FROM json_each(${p.values}) AS v
        WHERE instr(lower(dead_letters.body), lower(json_quote(v.value))) > 0)`,
  },
]

/** Every table's statements for one merge (`from` absorbed by `into` at `at`), guarded by `live`. */
export function mergeStatements(
  merge: { from: string; into: string; at: string },
  live: SQL,
): SQL[] {
  return CONTACT_TABLES.flatMap((table) => table.merge(merge.from, merge.into, live, merge.at))
}

/** Every table's erasure statement, named by its table. */
export function erasureStatements(person: ErasedPerson): [string, SQL][] {
  return CONTACT_TABLES.map((table) => [table.table, table.erase(person)])
}

/** Every table's retention statement, named by its table. */
export function expiryStatements(cutoff: RetentionCutoff): [string, SQL][] {
  return CONTACT_TABLES.flatMap((table) =>
    table.expire ? [[table.table, table.expire(cutoff)] as [string, SQL]] : [],
  )
}
