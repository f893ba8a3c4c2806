/**
 * The ContactDO's own SQLite schema, applied in order when an object starts. Each entry runs
 * once per object; append new entries, never edit shipped ones.
 */
export const CONTACT_MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
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
   );
   CREATE TABLE traits (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     message_id TEXT
   );
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
   );
   CREATE TABLE groups (
     group_id TEXT PRIMARY KEY,
     traits TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE data_keys (
     key_id TEXT PRIMARY KEY,
     raw TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     origin TEXT NOT NULL
   );
   CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);`,
  `CREATE TABLE consent_ledger (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     purposes TEXT NOT NULL,
     policy_version TEXT NOT NULL,
     source TEXT NOT NULL,
     method TEXT NOT NULL,
     identity TEXT,
     ip_hash TEXT,
     user_agent_hash TEXT
   );`,
  `CREATE TABLE touches (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     at INTEGER NOT NULL,
     channel TEXT NOT NULL,
     campaign TEXT,
     source TEXT,
     medium TEXT
   );
   CREATE INDEX touches_by_time ON touches (at);`,
]

export function migrateContactStorage(sql: SqlStorage): void {
  sql.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
  const row = sql.exec<{ version: number }>('SELECT version FROM schema_version').toArray()[0]
  const current = row?.version ?? 0
  for (let i = current; i < CONTACT_MIGRATIONS.length; i++) sql.exec(CONTACT_MIGRATIONS[i]!)
  if (!row) sql.exec('INSERT INTO schema_version (version) VALUES (?)', CONTACT_MIGRATIONS.length)
  else if (current !== CONTACT_MIGRATIONS.length) {
    sql.exec('UPDATE schema_version SET version = ?', CONTACT_MIGRATIONS.length)
  }
}
