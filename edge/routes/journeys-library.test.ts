import { describe, expect, it } from 'vitest'
import { JOURNEY_TEMPLATES } from '../../domain/journeys/templates'
import { api, uid } from '../../test/support/api'

interface LibraryTemplate {
  id: string
  name: string
  description: string
  definition: { start: string; nodes: Record<string, { type: string }> }
  creates: {
    emailTemplates: { id: string; name: string; subject: string; kind: string }[]
    segments: { id: string; name: string }[]
  }
}

async function keyFor(role: string) {
  const response = await api('/api/keys', { method: 'POST', json: { name: uid(role), role } })
  expect(response.status).toBe(201)
  return ((await response.json()) as { key: string }).key
}

describe('GET /api/journey-library', () => {
  it('answers every template with its description and what creating a journey from it makes', async () => {
    const response = await api('/api/journey-library')
    expect(response.status, await response.clone().text()).toBe(200)
    const { items } = (await response.json()) as { items: LibraryTemplate[] }
    expect(items.map((t) => t.id)).toEqual(Object.keys(JOURNEY_TEMPLATES))

    const cart = items.find((t) => t.id === 'abandoned-cart')!
    expect(cart.name).toBe('Abandoned cart')
    expect(cart.description).toMatch(/Order Completed/)
    expect(cart.definition).toEqual(JOURNEY_TEMPLATES['abandoned-cart'].definition)
    expect(cart.creates.emailTemplates).toEqual([
      expect.objectContaining({ id: 'abandoned-cart-reminder', kind: 'marketing' }),
      expect.objectContaining({ id: 'abandoned-cart-incentive', kind: 'marketing' }),
    ])
    expect(cart.creates.segments).toEqual([])
    // The templates' HTML stays out: the library describes, creating installs.
    expect(JSON.stringify(cart.creates)).not.toContain('<p>')

    const winBack = items.find((t) => t.id === 'win-back')!
    expect(winBack.creates.segments).toEqual([
      { id: 'win-back-at-risk', name: 'Win-back: at risk' },
    ])
  })

  it('names templates a journey is created from', async () => {
    const created = await api('/api/journeys', {
      method: 'POST',
      json: { name: uid('From library'), template: 'post-purchase' },
    })
    expect(created.status, await created.clone().text()).toBe(201)
    const journey = (await created.json()) as { id: string; versions: { version: number }[] }
    expect(journey.versions.map((v) => v.version)).toEqual([1])
    const saved = await api(`/api/journeys/${journey.id}/versions/1`)
    const { definition } = (await saved.json()) as { definition: unknown }
    expect(definition).toEqual(JOURNEY_TEMPLATES['post-purchase'].definition)
  })

  it('is open to the roles that may read journeys, not to compliance', async () => {
    for (const [role, status] of [
      ['analyst', 200],
      ['marketer', 200],
      ['compliance', 403],
    ] as const) {
      const response = await api('/api/journey-library', { key: await keyFor(role) })
      expect(response.status, role).toBe(status)
    }
    expect((await api('/api/journey-library', { key: '' })).status).toBe(401)
  })
})
