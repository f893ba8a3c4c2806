/**
 * The ContactDO's small key-value facts (table meta: its key, forward pointer, tombstone,
 * session state, schema version). Every ingest reads several of them, so they are read from
 * SQLite once per object instance and kept in memory; writes go to both. Call `forget()` when a
 * transaction rolls back or storage is wiped.
 */
export class ContactMeta {
  private values?: Map<string, string>

  constructor(
    private readonly sql: SqlStorage,
    private readonly hasTable: () => boolean,
  ) {}

  get(key: string): string | undefined {
    if (!this.values) {
      if (!this.hasTable()) return undefined
      this.values = new Map(
        this.sql
          .exec<{ key: string; value: string }>('SELECT key, value FROM meta')
          .toArray()
          .map((row) => [row.key, row.value]),
      )
    }
    return this.values.get(key)
  }

  set(key: string, value: string) {
    this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value)
    this.values?.set(key, value)
  }

  delete(key: string) {
    this.sql.exec('DELETE FROM meta WHERE key = ?', key)
    this.values?.delete(key)
  }

  forget() {
    this.values = undefined
  }
}
