import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, BASE, eventually, uid } from '../../test/support/api'
import { LIVE_STREAMS_PER_KEY } from './insights'

async function analystKey() {
  const response = await api('/api/keys', {
    method: 'POST',
    json: { name: uid('live'), role: 'analyst' },
  })
  return (await response.json()) as { id: string; key: string }
}

function openLive(key: string) {
  return SELF.fetch(`${BASE}/api/insights/live`, { headers: { Authorization: `Bearer ${key}` } })
}

const slots = () => env.LIVE_STREAMS.get(env.LIVE_STREAMS.idFromName('live-streams'))

describe('live stream limits', () => {
  it('refuses a key one stream more than its limit with 429 and Retry-After, and frees the slot on close', async () => {
    const { id, key } = await analystKey()
    const open: Response[] = []
    for (let i = 0; i < LIVE_STREAMS_PER_KEY; i++) {
      const response = await openLive(key)
      expect(response.status).toBe(200)
      expect(response.headers.get('Content-Type')).toContain('text/event-stream')
      open.push(response)
    }
    expect(await slots().open(id)).toBe(LIVE_STREAMS_PER_KEY)

    const refused = await openLive(key)
    expect(refused.status).toBe(429)
    expect(Number(refused.headers.get('Retry-After'))).toBeGreaterThan(0)
    expect(await refused.json()).toMatchObject({
      error: { code: 'too_many_streams', details: { scope: 'key', limit: LIVE_STREAMS_PER_KEY } },
    })

    // Another key is not held back by this one's streams.
    const other = await openLive((await analystKey()).key)
    expect(other.status).toBe(200)
    await other.body!.cancel()

    await open.pop()!.body!.cancel()
    await eventually(async () => (await slots().open(id)) < LIVE_STREAMS_PER_KEY)
    const again = await openLive(key)
    expect(again.status).toBe(200)
    open.push(again)
    for (const response of open) await response.body!.cancel()
    await eventually(async () => (await slots().open(id)) === 0)
  })
})

describe('live stream slots', () => {
  const limits = { perHolder: 2, total: 3, leaseMs: 60_000 }

  it('bounds all holders together and frees a released slot', async () => {
    const gate = env.LIVE_STREAMS.get(env.LIVE_STREAMS.idFromName(uid('slots')))
    const a = await gate.acquire('a', limits)
    expect(a.ok).toBe(true)
    expect((await gate.acquire('a', limits)).ok).toBe(true)
    expect(await gate.acquire('a', limits)).toMatchObject({ ok: false, scope: 'key', limit: 2 })
    expect((await gate.acquire('b', limits)).ok).toBe(true)
    const full = await gate.acquire('c', limits)
    expect(full).toMatchObject({ ok: false, scope: 'total', limit: 3 })
    expect(full.ok === false && full.retryAfterSeconds).toBeGreaterThan(0)
    if (a.ok) await gate.release(a.lease)
    expect((await gate.acquire('c', limits)).ok).toBe(true)
  })

  it('frees the slot of a stream whose release never came once its lease ends', async () => {
    const gate = env.LIVE_STREAMS.get(env.LIVE_STREAMS.idFromName(uid('slots')))
    expect((await gate.acquire('lost', { ...limits, perHolder: 1, leaseMs: 0 })).ok).toBe(true)
    expect((await gate.acquire('lost', { ...limits, perHolder: 1 })).ok).toBe(true)
    expect(await gate.open('lost')).toBe(1)
  })
})
