import { env, evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createSource, d1Count, eventually, send, uid } from '../test/support/api'
import { migrateContactStorage } from './contact-schema'
import { RETRY_MS, Scheduler, type ScheduleEntry } from './scheduler'

/** A fresh object's storage with the contact schema, for the scheduler alone. */
function withScheduler(
  test: (scheduler: Scheduler, storage: DurableObjectStorage) => Promise<void>,
): Promise<void> {
  const stub = env.CONTACTS.get(env.CONTACTS.idFromName(uid('scheduler')))
  return runInDurableObject(stub, async (_instance, state) => {
    migrateContactStorage(state.storage, 0)
    await test(new Scheduler(state.storage, () => true), state.storage)
    await state.storage.deleteAlarm()
  })
}

describe('the scheduler', () => {
  it('keeps one row per job, only ever moved earlier, and arms the alarm for the earliest', async () => {
    await withScheduler(async (scheduler, storage) => {
      // In the future, so that no alarm fires during the test.
      const at = (hours: number) => Date.now() + hours * 3_600_000
      const [one, three, five, nine] = [at(1), at(3), at(5), at(9)]
      scheduler.scheduleBy('retention', five, 'retention')
      scheduler.scheduleBy('retention', nine, 'retention')
      scheduler.scheduleBy('outbox', three, 'outbox')
      await scheduler.arm()
      expect(await storage.getAlarm()).toBe(three)
      scheduler.scheduleBy('retention', one, 'retention')
      await scheduler.arm()
      expect(await storage.getAlarm()).toBe(one)
      expect(storage.sql.exec('SELECT id, due_at FROM schedule ORDER BY due_at').toArray()).toEqual(
        [
          { id: 'retention', due_at: one },
          { id: 'outbox', due_at: three },
        ],
      )
      scheduler.cancel('retention')
      scheduler.cancel('outbox')
      await scheduler.arm()
      expect(await storage.getAlarm()).toBeNull()
    })
  })

  it('runs due jobs, keeps the ones that ask to run again, and retries a failing one without stopping the rest', async () => {
    await withScheduler(async (scheduler, storage) => {
      // An hour from now, so that the alarm armed for the retry does not fire during the test.
      const now = Date.now() + 3_600_000
      const ran: string[] = []
      scheduler.scheduleBy('failing', now - 2, 'failing')
      scheduler.scheduleBy('once', now - 1, 'once')
      scheduler.scheduleBy('daily', now, 'daily')
      scheduler.scheduleBy('later', now + 60_000, 'once')
      await scheduler.run(
        {
          failing: async () => {
            ran.push('failing')
            throw new Error('provider down')
          },
          once: async (entry: ScheduleEntry) => {
            ran.push(entry.id)
            return null
          },
          daily: async (_entry, at) => {
            ran.push('daily')
            return at + 86_400_000
          },
        },
        now,
      )
      expect(ran).toEqual(['failing', 'once', 'daily'])
      const rows = storage.sql
        .exec<{ id: string; due_at: number }>('SELECT id, due_at FROM schedule ORDER BY id')
        .toArray()
      expect(rows).toEqual([
        { id: 'daily', due_at: now + 86_400_000 },
        { id: 'failing', due_at: now + RETRY_MS },
        { id: 'later', due_at: now + 60_000 },
      ])
      // Re-armed in finally, for the earliest row left: the failing job's retry.
      expect(await storage.getAlarm()).toBe(now + RETRY_MS)
    })
  })

  it('gives a contact whose send is not confirmed an outbox job that sends it within minutes', async () => {
    const { writeKey } = await createSource({ name: 'Fresh after a crash' })
    const user = uid('unsent')
    const before = Date.now()
    expect((await send('/v1/track', writeKey, { userId: user, event: 'Kept' })).status).toBe(200)
    const stub = env.CONTACTS.get(env.CONTACTS.idFromName(user))
    const due = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ due_at: number }>("SELECT due_at FROM schedule WHERE id = 'outbox'")
        .one(),
    )
    expect(due.due_at - before).toBeLessThanOrEqual(5 * 60_000)
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(due.due_at)
    await eventually(() => d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user))

    // As if the runtime had died before the send: nothing in D1, no send recorded.
    await env.DB.prepare('DELETE FROM events WHERE contact_key = ?').bind(user).run()
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE meta SET value = '0' WHERE key = 'shipped_seq'")
      state.storage.sql.exec("UPDATE schedule SET due_at = 0 WHERE id = 'outbox'")
    })
    await evictDurableObject(stub)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM events WHERE contact_key = ?', user)) === 1,
    )
    // Everything is sent: the job is done, and only the daily retention and predictions jobs
    // are left.
    const left = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ id: string }>('SELECT id FROM schedule ORDER BY id').toArray(),
    )
    expect(left).toEqual([{ id: 'predictions' }, { id: 'retention' }])
  })
})
