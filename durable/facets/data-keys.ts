import type { ActivationState } from '../activation'
import type { AbsorbContext, Facet } from '../facet'
import { generateDataKey, importDataKey } from '../data-key'

export type DataKeyRow = {
  key_id: string
  raw: string
  created_at: number
}

/**
 * The contact's archive keys (table data_keys): its own, which seals what it sends to the
 * archive, and those of the contacts it absorbed, which their archived lines were sealed with.
 * Destroying them is what makes the archive unreadable for the person (see data-key.ts).
 */
export class DataKeys implements Facet<DataKeyRow[]> {
  readonly tables = ['data_keys'] as const
  private own?: { keyId: string; raw: string } | null
  private sealing?: Promise<{ id: string; key: CryptoKey }>

  constructor(private readonly sql: SqlStorage) {}

  prime(state: Omit<ActivationState, 'meta'>) {
    this.own = state.ownDataKey
  }

  forget() {
    this.own = undefined
    this.sealing = undefined
  }

  /** The key that seals this contact's archive lines, made on first use. */
  sealingKey(): Promise<{ id: string; key: CryptoKey }> {
    this.sealing ??= (async () => {
      if (this.own === undefined) {
        const row = this.sql
          .exec<{ key_id: string; raw: string }>(
            "SELECT key_id, raw FROM data_keys WHERE origin = 'own' ORDER BY created_at DESC LIMIT 1",
          )
          .toArray()[0]
        this.own = row ? { keyId: row.key_id, raw: row.raw } : null
      }
      if (!this.own) {
        this.own = { keyId: crypto.randomUUID(), raw: generateDataKey() }
        this.sql.exec(
          `INSERT INTO data_keys (key_id, raw, created_at, origin) VALUES (?, ?, ?, 'own')`,
          this.own.keyId,
          this.own.raw,
          Date.now(),
        )
      }
      return { id: this.own.keyId, key: await importDataKey(this.own.raw) }
    })()
    return this.sealing
  }

  /** Every key, raw: the contact's own and those of the contacts it absorbed. */
  all(): { keyId: string; raw: string }[] {
    return this.sql
      .exec<{ key_id: string; raw: string }>('SELECT key_id, raw FROM data_keys')
      .toArray()
      .map((row) => ({ keyId: row.key_id, raw: row.raw }))
  }

  handOver(): DataKeyRow[] {
    return this.sql.exec<DataKeyRow>('SELECT key_id, raw, created_at FROM data_keys').toArray()
  }

  /** Each keeps the absorbed contact's key as its origin. */
  absorb(rows: DataKeyRow[], { fromKey }: AbsorbContext) {
    for (const dataKey of rows) {
      this.sql.exec(
        `INSERT OR IGNORE INTO data_keys (key_id, raw, created_at, origin) VALUES (?, ?, ?, ?)`,
        dataKey.key_id,
        dataKey.raw,
        dataKey.created_at,
        fromKey,
      )
    }
  }

  profile() {
    return {}
  }
}
