/**
 * The ContactDO's own SQLite schema, applied in order. Each entry runs once per object; append
 * new entries, never edit shipped ones. The first is only the meta table: an anonymous contact
 * that is merged away before it stored anything needs no more than its forward pointer, and
 * creating a full schema costs more than the rest of an ingest.
 *
 * Tables keyed by text are WITHOUT ROWID: their rows live in the primary key's b-tree instead of
 * a rowid table beside a separate key index, so a new contact writes 17 pages instead of 23 and
 * an upsert of a counter or a meta value touches one page instead of two (each open object's
 * page cache counts against workerd's SQLite heap, docs/design/contact-state.md). The second entry was
 * changed so on 2026-11-25, before Cairn was first deployed; objects created earlier keep rowid
 * tables with the same columns and keys, which every statement reads and writes alike.
 */
export const CONTACT_MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  `CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL,
     message_id TEXT NOT NULL UNIQUE,
     type TEXT NOT NULL,
     name TEXT,
     timestamp INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     bot INTEGER NOT NULL DEFAULT 0,
     body TEXT NOT NULL
   );
   CREATE INDEX events_by_time ON events (timestamp, seq);
   CREATE TABLE counters (
     name TEXT PRIMARY KEY,
     count INTEGER NOT NULL,
     first_at INTEGER NOT NULL,
     last_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE traits (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     message_id TEXT
   ) WITHOUT ROWID;
   CREATE TABLE trait_changes (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL,
     old_value TEXT,
     new_value TEXT NOT NULL,
     changed_at INTEGER NOT NULL,
     message_id TEXT
   );
   CREATE TABLE identities (
     kind TEXT NOT NULL,
     value TEXT NOT NULL,
     status TEXT NOT NULL,
     linked_at INTEGER NOT NULL,
     detail TEXT,
     PRIMARY KEY (kind, value)
   ) WITHOUT ROWID;
   CREATE TABLE groups (
     group_id TEXT PRIMARY KEY,
     traits TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE data_keys (
     key_id TEXT PRIMARY KEY,
     raw TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     origin TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
   CREATE TABLE consent_ledger (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     purposes TEXT NOT NULL,
     policy_version TEXT NOT NULL,
     source TEXT NOT NULL,
     method TEXT NOT NULL,
     identity TEXT,
     ip_hash TEXT,
     user_agent_hash TEXT
   );
   CREATE TABLE touches (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     at INTEGER NOT NULL,
     channel TEXT NOT NULL,
     campaign TEXT,
     source TEXT,
     medium TEXT
   );`,
  // Stored events are sent from the events table past this mark (see outbox.ts); until now
  // they went through the outbox table, so every event stored so far is covered by it.
  `INSERT OR REPLACE INTO meta (key, value)
     SELECT 'shipped_seq', COALESCE(MAX(seq), 0) FROM events;`,
  // The object's timers (scheduler.ts); the daily prune was a meta value until now.
  `CREATE TABLE schedule (
     id TEXT PRIMARY KEY,
     due_at INTEGER NOT NULL,
     kind TEXT NOT NULL,
     payload TEXT
   ) WITHOUT ROWID;
   INSERT INTO schedule (id, due_at, kind)
     SELECT 'retention', CAST(value AS INTEGER), 'retention' FROM meta WHERE key = 'prune_due_at';
   DELETE FROM meta WHERE key = 'prune_due_at';`,
  // Segments and manual lists (facets/memberships.ts). No index on event names for the rules
  // that count them: a contact's events are few, and each index costs every insert.
  `CREATE TABLE memberships (
     kind TEXT NOT NULL,
     id TEXT NOT NULL,
     since INTEGER NOT NULL,
     PRIMARY KEY (kind, id)
   ) WITHOUT ROWID;`,
]

export const FULL_SCHEMA = CONTACT_MIGRATIONS.length
/** The version from which the contact's tables exist (the second migration creates them). */
export const CONTACT_TABLES = 2
/** The version from which the schedule table exists. */
export const SCHEDULE_TABLE = 4
/** The newest table activation.ts reads: an object without it is upgraded before it wakes so. */
const NEWEST_ACTIVATION_TABLE = 'memberships'
/** The meta key holding the applied version. */
export const SCHEMA_VERSION_KEY = 'schema_version'

/**
 * What an object holds when it wakes, from one look at `sqlite_master`: nothing yet (a new
 * object), only meta (a contact merged away before it stored anything keeps its forward pointer
 * there), the contact's tables as activation.ts reads them (events and memberships among them), or
 * the contact's tables from before a migration that activation.ts needs (`outdated`: upgraded on
 * first use, its copies read as needed).
 */
export type StoredSchema = 'none' | 'meta' | 'outdated' | 'contact'

export function storedSchema(sql: SqlStorage): StoredSchema {
  const names = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'events', ?)",
      NEWEST_ACTIVATION_TABLE,
    )
    .toArray()
    .map((row) => row.name)
  if (names.includes(NEWEST_ACTIVATION_TABLE)) return 'contact'
  return names.includes('events') ? 'outdated' : names.includes('meta') ? 'meta' : 'none'
}

/** The object's schema version: 0 for a new object. */
export function schemaVersion(sql: SqlStorage, stored = storedSchema(sql)): number {
  if (stored === 'none') return 0
  const row = sql
    .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', SCHEMA_VERSION_KEY)
    .toArray()[0]
  return row ? Number(row.value) : 1
}

/**
 * Applies the migrations after `from` up to `to` in one transaction; returns the new version.
 * All or nothing: a statement that fails part-way (workerd's SQLite runs out of memory under
 * load) must not leave tables behind without the version that says they exist, or every later
 * attempt fails on "table already exists".
 */
export function migrateContactStorage(
  storage: DurableObjectStorage,
  from: number,
  to = FULL_SCHEMA,
  migrations = CONTACT_MIGRATIONS,
): number {
  if (from >= to) return from
  storage.transactionSync(() => {
    for (let i = from; i < to; i++) storage.sql.exec(migrations[i]!)
    storage.sql.exec(
      'INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)',
      SCHEMA_VERSION_KEY,
      String(to),
    )
  })
  return to
}
