import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ANON_PREFIX } from '../domain/identity'
import { createSource, send, uid } from '../test/support/api'
import {
  CONTACT_MIGRATIONS,
  FULL_SCHEMA,
  migrateContactStorage,
  schemaVersion,
} from './contact-schema'
import { SHIPPED_SEQ_KEY } from './outbox'

describe('contact storage schema', () => {
  it('counts the events of a contact stored before the mark existed as sent (they went through the outbox table)', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    await runInDurableObject(stub, async (_instance, state) => {
      const sql = state.storage.sql
      migrateContactStorage(state.storage, 0, 2)
      for (let n = 0; n < 3; n++) {
        sql.exec(
          `INSERT INTO events (id, message_id, type, timestamp, received_at, body)
           VALUES (?, ?, 'track', 0, 0, '{}')`,
          `e${n}`,
          `m${n}`,
        )
      }
      migrateContactStorage(state.storage, 2)
      const mark = sql
        .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', SHIPPED_SEQ_KEY)
        .one().value
      expect(Number(mark)).toBe(3)
    })
  })

  it('applies migrations all or nothing, so an attempt that failed part-way can be made again', async () => {
    const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
    await runInDurableObject(stub, async (_instance, state) => {
      const failing = [...CONTACT_MIGRATIONS.slice(0, 2), 'INSERT INTO no_such_table VALUES (1)']
      expect(() => migrateContactStorage(state.storage, 0, 3, failing)).toThrow('no_such_table')
      const tables = () =>
        state.storage.sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
          .one().n
      expect(tables()).toBe(0)
      expect(schemaVersion(state.storage.sql)).toBe(0)
      expect(migrateContactStorage(state.storage, 0)).toBe(FULL_SCHEMA)
      expect(schemaVersion(state.storage.sql)).toBe(FULL_SCHEMA)
    })
  })

  // 17 pages until the schedule table (scheduler.ts) took one more: its root page holds the
  // contact's timers, which lived in meta before; the memberships table (segments and lists,
  // one table for both) one more.
  it('keeps a contact made by one page view within 19 pages of storage, its schema included', async () => {
    const { writeKey } = await createSource({ name: 'Schema size' })
    const visitor = uid('anon')
    const response = await send('/v1/page', writeKey, { anonymousId: visitor, name: 'Home' })
    expect(response.status).toBe(200)
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(`${ANON_PREFIX}${visitor}`))
    const bytes = await runInDurableObject(
      stub,
      (_instance, state) => state.storage.sql.databaseSize,
    )
    expect(bytes).toBeLessThanOrEqual(19 * 4096)
  })
})
