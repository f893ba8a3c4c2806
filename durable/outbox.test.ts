import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type {
  ContactSnapshot,
  ConversionMessage,
  MergeMessage,
  QueuedMessage,
} from '../contracts/queue-messages'
import { ContactMeta } from './contact-meta'
import { migrateContactStorage } from './contact-schema'
import { Outbox, SHIPPED_SEQ_KEY, type Resend } from './outbox'

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

/** Stands for the messages of the stored event `seq` (the outbox only carries them). */
function fromEvent(seq: number): ContactSnapshot {
  return {
    kind: 'contact',
    key: 'user',
    version: seq,
    anonymousIds: [],
    traits: {},
    firstSeen: '2026-11-24T00:00:00Z',
    lastSeen: '2026-11-24T00:00:00Z',
    eventCount: seq,
  }
}

/**
 * Runs `test` on a fresh ContactDO's storage with its tables. `storeEvents(n)` adds n rows to
 * the events table; the outbox's resend makes `fromEvent(seq)` for each row past the mark.
 */
async function withStorage(
  test: (tools: {
    sql: SqlStorage
    outbox: (queues: { events: Queue<string>; conversions?: Queue<string> }) => Outbox
    storeEvents: (n: number) => number[]
    storedMark: () => number | undefined
  }) => Promise<void>,
) {
  const stub = env.CONTACTS.get(env.CONTACTS.newUniqueId())
  await runInDurableObject(stub, async (_instance, state) => {
    const sql = state.storage.sql
    migrateContactStorage(state.storage, 0)
    const resend = async (after: number, upTo = Infinity): Promise<Resend | null> => {
      const seqs = sql
        .exec<{ seq: number }>('SELECT seq FROM events WHERE seq > ? ORDER BY seq', after)
        .toArray()
        .filter((row) => row.seq <= upTo)
        .map((row) => row.seq)
      return seqs.length === 0
        ? null
        : { messages: seqs.map(fromEvent), through: seqs[seqs.length - 1]! }
    }
    const storeEvents = (n: number) =>
      Array.from(
        { length: n },
        () =>
          sql
            .exec<{ seq: number }>(
              `INSERT INTO events (id, message_id, type, timestamp, received_at, body)
               VALUES (?, ?, 'track', 0, 0, '{}') RETURNING seq`,
              crypto.randomUUID(),
              crypto.randomUUID(),
            )
            .one().seq,
      )
    const storedMark = () => {
      const row = sql
        .exec<{ value: string }>('SELECT value FROM meta WHERE key = ?', SHIPPED_SEQ_KEY)
        .toArray()[0]
      return row ? Number(row.value) : undefined
    }
    await test({
      sql,
      outbox: (queues) =>
        new Outbox(
          sql,
          new ContactMeta(sql, () => true),
          () => ({ events: queues.events, conversions: queues.conversions ?? queues.events }),
          resend,
        ),
      storeEvents,
      storedMark,
    })
  })
}

const rows = (sql: SqlStorage) =>
  sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM outbox').one().n

describe('outbox', () => {
  it("writes a transaction's messages that exist nowhere else as one row, one bundle per queue, conversions to their own, and deletes the row once sent", async () => {
    await withStorage(async ({ sql, outbox }) => {
      const events = fakeQueue()
      const conversions = fakeQueue()
      const box = outbox({ events: events.queue, conversions: conversions.queue })
      box.add(merge(1))
      box.add(conversion)
      box.add(merge(2))
      box.commit()
      expect(rows(sql)).toBe(1)
      await box.send()
      expect(events.batches).toEqual([[[merge(1), merge(2)]]])
      expect(conversions.batches).toEqual([[[conversion]]])
      expect(rows(sql)).toBe(0)
    })
  })

  it("writes no row for stored events' messages: a confirmed send moves the mark, which the next transaction writes", async () => {
    await withStorage(async ({ sql, outbox, storeEvents, storedMark }) => {
      const queue = fakeQueue()
      const box = outbox({ events: queue.queue })
      const [first, second] = storeEvents(2)
      box.addFromEvents(fromEvent(first!), first!)
      box.addFromEvents(fromEvent(second!), second!)
      box.add(merge(1))
      box.commit()
      await box.send()
      expect(queue.sent()).toEqual([merge(1), fromEvent(first!), fromEvent(second!)])
      expect(rows(sql)).toBe(0)
      expect(box.mark()).toBe(second)
      // Written with the next commit, not by a write of its own after the send.
      expect(storedMark()).toBe(0)
      const [third] = storeEvents(1)
      box.addFromEvents(fromEvent(third!), third!)
      box.commit()
      expect(storedMark()).toBe(second)
    })
  })

  it('sends again, from the table, the events an earlier instance left past the written mark, with its own in one sendBatch', async () => {
    await withStorage(async ({ outbox, storeEvents, storedMark }) => {
      const queue = fakeQueue()
      const first = outbox({ events: queue.queue })
      const seqs = storeEvents(3)
      for (const seq of seqs) first.addFromEvents(fromEvent(seq), seq)
      first.commit()
      await first.send()
      // The instance stopped before another commit wrote the mark.
      expect(storedMark()).toBe(0)

      const again = fakeQueue()
      const next = outbox({ events: again.queue })
      expect(next.unsent()).toBe(true)
      next.inherit({ rows: 0, lastSeq: seqs[2]! })
      const [own] = storeEvents(1)
      next.addFromEvents(fromEvent(own!), own!)
      next.commit()
      await next.send()
      expect(again.batches).toHaveLength(1)
      expect(again.sent()).toEqual([...seqs, own!].map(fromEvent))
      // Written at once: an object storing one event per wake-up would otherwise resend it all.
      expect(storedMark()).toBe(own)
      expect(next.unsent()).toBe(false)
    })
  })

  it('never moves the mark past an event whose send failed, even when a later send succeeds', async () => {
    await withStorage(async ({ outbox, storeEvents, storedMark }) => {
      const queue = fakeQueue({ failOnCall: 1 })
      const box = outbox({ events: queue.queue })
      const [lost, later] = storeEvents(2)
      box.addFromEvents(fromEvent(lost!), lost!)
      box.commit()
      await expect(box.send()).rejects.toThrow('queue unavailable')
      box.addFromEvents(fromEvent(later!), later!)
      box.commit()
      await box.send()
      expect(queue.sent()).toEqual([fromEvent(lost!), fromEvent(later!)])
      expect(storedMark()).toBe(later)
    })
  })

  it('keeps a row whose send failed, and a later instance sends it from the table', async () => {
    await withStorage(async ({ sql, outbox }) => {
      const failing = fakeQueue({ failOnCall: 1 })
      const first = outbox({ events: failing.queue })
      first.add(merge(1))
      first.commit()
      await expect(first.send()).rejects.toThrow('queue unavailable')
      expect(rows(sql)).toBe(1)

      const working = fakeQueue()
      const next = outbox({ events: working.queue })
      expect(next.unsent()).toBe(true)
      next.inherit({ rows: 1, lastSeq: 0 })
      await next.send()
      expect(working.sent()).toEqual([merge(1)])
      expect(rows(sql)).toBe(0)
    })
  })

  it('splits a row over queue message and sendBatch limits and deletes it only once its last part is sent', async () => {
    await withStorage(async ({ sql, outbox }) => {
      // 35 KB messages: three to a bundle (under 128 KB per queue message), two bundles to a
      // sendBatch (under 256 KB per call).
      const messages = Array.from({ length: 13 }, (_, n) => merge(n, 'x'.repeat(35 * 1024)))
      const failing = fakeQueue({ failOnCall: 2 })
      const box = outbox({ events: failing.queue })
      for (const message of messages) box.add(message)
      box.commit()
      await expect(box.send()).rejects.toThrow('queue unavailable')
      // The first part went out, the row stays for the rest.
      expect(failing.batches.map((batch) => batch.map((bundle) => bundle.length))).toEqual([[3, 3]])
      expect(rows(sql)).toBe(1)

      const working = fakeQueue()
      const retry = outbox({ events: working.queue })
      retry.inherit({ rows: 1, lastSeq: 0 })
      await retry.send()
      // At least once: the whole row again, in order, never part of it lost.
      expect(working.batches.map((batch) => batch.map((bundle) => bundle.length))).toEqual([
        [3, 3],
        [3, 3],
        [1],
      ])
      expect(working.sent()).toEqual(messages)
      expect(rows(sql)).toBe(0)

      // Many small transactions: 100 queue messages per sendBatch.
      const many = outbox({ events: working.queue })
      for (let n = 0; n < 150; n++) {
        many.add(merge(n))
        many.commit()
      }
      await many.send()
      expect(working.batches.slice(-2).map((batch) => batch.length)).toEqual([100, 50])
      expect(rows(sql)).toBe(0)
    })
  })
})
