import { env, evictDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api } from '../../test/support/api'

// A file of its own: these tests break the chain, and storage is shared by a file's tests.

interface Verdict {
  ok: boolean
  rows: number
  firstBroken?: { seq: number; reason: string }
}

async function verify() {
  const response = await api('/api/audit/verify')
  expect(response.status).toBe(200)
  return (await response.json()) as Verdict
}

async function lastSeq() {
  const row = await env.DB.prepare('SELECT MAX(seq) AS seq FROM audit_log').first<{ seq: number }>()
  return row!.seq
}

describe('audit verification against the sequencer head', () => {
  it('reports rows removed from the end of the chain, and appends do not paper over the gap', async () => {
    for (let i = 0; i < 5; i++) {
      await api('/api/sources', { method: 'POST', json: { name: `Truncated ${i}` } })
    }
    expect((await verify()).ok).toBe(true)

    const head = await lastSeq()
    await env.DB.prepare('DELETE FROM audit_log WHERE seq > ?')
      .bind(head - 2)
      .run()
    const truncated = await verify()
    expect(truncated.ok).toBe(false)
    expect(truncated.firstBroken).toEqual({
      seq: head - 1,
      reason: expect.stringContaining(`chain ends at seq ${head - 2} but the sequencer's head is`),
    })

    // The next append continues after the recorded head, not after D1's truncated tail, even
    // once the sequencer has restarted and reloaded its head.
    await evictDurableObject(env.AUDIT.get(env.AUDIT.idFromName('audit-log')))
    await api('/api/sources', { method: 'POST', json: { name: 'After the truncation' } })
    const after = await env.DB.prepare('SELECT seq FROM audit_log WHERE seq > ? ORDER BY seq')
      .bind(head - 2)
      .all<{ seq: number }>()
    expect(after.results[0]!.seq).toBeGreaterThan(head)
    const still = await verify()
    expect(still.ok).toBe(false)
    expect(still.firstBroken).toMatchObject({
      seq: head - 1,
      reason: expect.stringContaining('missing'),
    })
  })
})
