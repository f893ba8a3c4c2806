import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { ConversionMessage, MergeMessage, QueuedMessage } from '../edge/queue/messages'
import { migrateContactStorage } from './contact-schema'
import { Outbox } from './outbox'

/**
 * The outbox against a real Durable Object's SQLite. The queues are fakes: a queue that refuses
 * a send cannot be produced with the local binding, and that refusal is what these tests are for.
 */
function fakeQueue(options: { failOnCall?: number } = {}) {
  /** Each sendBatch call: its queue messages, each a bundle of messages. */
  const batches: QueuedMessage[][][] = []
  let calls = 0
  const queue = {
    async sendBatch(messages: Iterable<MessageSendRequest<string>>) {
      calls++
      if (calls === options.failOnCall) throw new Error('queue unavailable')
      const bodies = [...messages].map((message) => message.body)
      for (const body of bodies) expect(new TextEncoder().encode(body).length).toBeLessThan(128_000)
      batches.push(bodies.map((body) => JSON.parse(body) as QueuedMessage[]))
    },
  } as unknown as Queue<string>
  return { queue, batches, sent: () => batches.flat(2) }
}

function merge(n: number, padding = ''): MergeMessage {
  return { kind: 'merge', from: `anon:${n}${padding}`, into: 'user', at: '2026-11-24T00:00:00Z' }
}

const conversion = { kind: 'conversion', id: 'c1' } as ConversionMessage

/** Runs `test` with the outbox table of a fresh ContactDO's storage. */
async function withStorage(test: (sql: SqlStorage) => Promise<void>) {
  const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
  await runInDurableObject(stub, async (_instance, state) => {
    migrateContactStorage(state.storage.sql, 0)
    await test(state.storage.sql)
  })
}

const rows = (sql: SqlStorage) =>
  sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n

describe('outbox', () => {
  it("writes a transaction's messages as one row and one bundle per queue, conversions to their own, deletes the row once sent", async () => {
    await withStorage(async (sql) => {
      const events = fakeQueue()
      const conversions = fakeQueue()
      const outbox = new Outbox(sql, () => ({
        events: events.queue,
        conversions: conversions.queue,
      }))
      outbox.add(merge(1))
      outbox.add(conversion)
      outbox.add(merge(2))
      outbox.commit()
      expect(rows(sql)).toBe(1)
      await outbox.sendPending()
      expect(events.batches).toEqual([[[merge(1), merge(2)]]])
      expect(conversions.batches).toEqual([[[conversion]]])
      expect(rows(sql)).toBe(0)
    })
  })

  it('keeps a row whose send failed, and a later instance sends it from the table', async () => {
    await withStorage(async (sql) => {
      const failing = fakeQueue({ failOnCall: 1 })
      const first = new Outbox(sql, () => ({ events: failing.queue, conversions: failing.queue }))
      first.add(merge(1))
      first.commit()
      await expect(first.sendPending()).rejects.toThrow('queue unavailable')
      expect(rows(sql)).toBe(1)

      const working = fakeQueue()
      const next = new Outbox(sql, () => ({ events: working.queue, conversions: working.queue }))
      await next.sendStored()
      expect(working.sent()).toEqual([merge(1)])
      expect(rows(sql)).toBe(0)
    })
  })

  it('splits a row over queue message and sendBatch limits and deletes it only once its last part is sent', async () => {
    await withStorage(async (sql) => {
      // 35 KB messages: three to a bundle (under 128 KB per queue message), two bundles to a
      // sendBatch (under 256 KB per call).
      const messages = Array.from({ length: 13 }, (_, n) => merge(n, 'x'.repeat(35 * 1024)))
      const failing = fakeQueue({ failOnCall: 2 })
      const outbox = new Outbox(sql, () => ({ events: failing.queue, conversions: failing.queue }))
      for (const message of messages) outbox.add(message)
      outbox.commit()
      await expect(outbox.sendPending()).rejects.toThrow('queue unavailable')
      // The first part went out, the row stays for the rest.
      expect(failing.batches.map((batch) => batch.map((bundle) => bundle.length))).toEqual([[3, 3]])
      expect(rows(sql)).toBe(1)

      const working = fakeQueue()
      const retry = new Outbox(sql, () => ({ events: working.queue, conversions: working.queue }))
      await retry.sendStored()
      // At least once: the whole row again, in order, never part of it lost.
      expect(working.batches.map((batch) => batch.map((bundle) => bundle.length))).toEqual([
        [3, 3],
        [3, 3],
        [1],
      ])
      expect(working.sent()).toEqual(messages)
      expect(rows(sql)).toBe(0)

      // Many small transactions: 100 queue messages per sendBatch.
      const many = new Outbox(sql, () => ({ events: working.queue, conversions: working.queue }))
      for (let n = 0; n < 150; n++) {
        many.add(merge(n))
        many.commit()
      }
      await many.sendPending()
      expect(working.batches.slice(-2).map((batch) => batch.length)).toEqual([100, 50])
      expect(rows(sql)).toBe(0)
    })
  })
})
