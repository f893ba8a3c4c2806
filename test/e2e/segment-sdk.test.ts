import { Analytics } from '@segment/analytics-node'
import { describe, expect, inject, it } from 'vitest'

const url = inject('stackUrl')
const adminKey = inject('adminKey')

async function management<T>(
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, {
    ...init,
    headers: {
      Authorization: `Bearer ${adminKey}`,
      'Content-Type': 'application/json',
      ...init.headers,
    },
  })
  return { status: response.status, body: (await response.json()) as T }
}

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('interoperability with @segment/analytics-node', () => {
  it('accepts track, identify, page and group calls from the unmodified SDK', async () => {
    const source = await management<{ writeKey: string }>('/api/sources', {
      method: 'POST',
      body: JSON.stringify({ name: 'Node backend' }),
    })
    expect(source.status).toBe(201)
    const analytics = new Analytics({
      writeKey: source.body.writeKey,
      host: url,
      flushAt: 10,
      flushInterval: 200,
    })
    const errors: unknown[] = []
    analytics.on('error', (error) => errors.push(error))

    const userId = `sdk-user-${Date.now()}`
    analytics.identify({ userId, traits: { email: 'sdk@example.com', plan: 'enterprise' } })
    analytics.track({
      userId,
      event: 'Order Completed',
      properties: { revenue: 42.5, currency: 'EUR' },
    })
    analytics.page({
      userId,
      name: 'Pricing',
      properties: { url: 'https://shop.example/pricing', path: '/pricing' },
    })
    analytics.group({ userId, groupId: 'acme-inc', traits: { name: 'Acme Inc', employees: 120 } })
    await analytics.closeAndFlush({ timeout: 10_000 })
    expect(errors).toEqual([])

    const profile = await management<{
      traits: Record<string, unknown>
      groups: { groupId: string }[]
      eventCount: number
    }>(`/api/contacts/${userId}`)
    expect(profile.status).toBe(200)
    expect(profile.body.traits).toEqual({ email: 'sdk@example.com', plan: 'enterprise' })
    expect(profile.body.groups.map((g) => g.groupId)).toEqual(['acme-inc'])
    expect(profile.body.eventCount).toBe(4)

    const events = await management<{ items: Record<string, any>[] }>(
      `/api/contacts/${userId}/events`,
    )
    const byType = Object.fromEntries(events.body.items.map((e) => [e.type, e]))
    expect(Object.keys(byType).sort()).toEqual(['group', 'identify', 'page', 'track'])
    expect(byType.track).toMatchObject({ event: 'Order Completed', properties: { revenue: 42.5 } })
    expect(byType.track!.context.library.name).toBe('@segment/analytics-node')
    expect(byType.page).toMatchObject({
      name: 'Pricing',
      enrichment: { path: '/pricing', bot: false },
    })

    // The same events reach D1 through the queue and show in the contact list.
    const listed = await eventually(async () => {
      const list = await management<{ items: { key: string; eventCount: number }[] }>(
        `/api/contacts?q=${userId}`,
      )
      const found = list.body.items.find((c) => c.key === userId)
      return found?.eventCount === 4 ? found : undefined
    })
    expect(listed.key).toBe(userId)
  })
})
