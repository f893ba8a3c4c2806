import { execRows } from './multi-row'

/**
 * The ContactDO's small key-value facts (table meta: its key, forward pointer, tombstone,
 * session state, schema version). Every ingest reads several of them, so they are read from
 * SQLite once per object instance and kept in memory. Inside a transaction (`stage` …
 * `commit`) writes are collected and written by one statement at commit, since an ingest sets
 * several of them and each statement costs more than the write itself. Call `forget()` when a
 * transaction rolls back or storage is wiped.
 */
export class ContactMeta {
  private values?: Map<string, string>
  private staged?: Map<string, string>

  constructor(
    private readonly sql: SqlStorage,
    private readonly hasTable: () => boolean,
  ) {}

  /** Sets the values read when the object woke (see activation.ts), sparing a query. */
  prime(entries: Iterable<[string, string]>) {
    this.values = new Map(entries)
  }

  get(key: string): string | undefined {
    if (!this.values) {
      if (!this.hasTable()) return undefined
      this.prime(
        this.sql
          .exec<{ key: string; value: string }>('SELECT key, value FROM meta')
          .toArray()
          .map((row) => [row.key, row.value]),
      )
    }
    return this.values!.get(key)
  }

  set(key: string, value: string) {
    if (this.values?.get(key) === value) return
    if (this.staged) this.staged.set(key, value)
    else this.sql.exec('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)', key, value)
    this.values?.set(key, value)
  }

  delete(key: string) {
    this.staged?.delete(key)
    this.sql.exec('DELETE FROM meta WHERE key = ?', key)
    this.values?.delete(key)
  }

  /** From here until `commit`, writes are collected. */
  stage() {
    this.staged = new Map()
  }

  /** Writes what was collected since `stage`; call inside the same transaction. */
  commit() {
    const staged = this.staged
    this.staged = undefined
    if (!staged || staged.size === 0) return
    execRows(this.sql, 'INSERT OR REPLACE INTO meta (key, value)', [...staged])
  }

  forget() {
    this.values = undefined
    this.staged = undefined
  }
}
