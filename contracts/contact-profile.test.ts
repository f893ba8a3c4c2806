import { describe, expect, expectTypeOf, it } from 'vitest'
import type { ContactProfile as StoredProfile } from '../durable/contact-rpc'
import { api, createSource, send, uid } from '../test/support/api'
import { ContactSchema, type Contact, type ContactProfile } from './contact-profile'

describe('the contact profile contract', () => {
  it('is the type the ContactDO returns', () => {
    // Checked by `tsc` (npm run lint); both directions, so neither side may add or narrow a field.
    expectTypeOf<StoredProfile>().toExtend<ContactProfile>()
    expectTypeOf<ContactProfile>().toExtend<StoredProfile>()
    expectTypeOf<Contact>().toExtend<ContactProfile>()
  })

  it('describes what GET /api/contacts/:id answers, field for field', async () => {
    const { writeKey } = await createSource({ name: 'Profile contract' })
    const userId = uid('contract')
    const sent = await send('/v1/batch', writeKey, {
      batch: [
        {
          type: 'page',
          userId,
          anonymousId: uid('contract-anon'),
          context: { page: { url: 'https://shop.example/?utm_source=news&utm_medium=email' } },
        },
        { type: 'identify', userId, traits: { plan: 'pro', email: `${userId}@example.com` } },
        { type: 'identify', userId, traits: { plan: 'team' } },
        { type: 'group', userId, groupId: 'acme', traits: { seats: 5 } },
        { type: 'track', userId, event: 'Order Completed', properties: { revenue: 12 } },
      ],
    })
    expect(sent.status).toBe(200)

    const response = await api(`/api/contacts/${encodeURIComponent(userId)}`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as Contact
    // Parsing strips what the schema does not name, so equality also rules out extra fields.
    expect(ContactSchema.parse(body)).toEqual(body)
    expect(body.traitHistory.length).toBeGreaterThan(0)
    expect(body.groups).toHaveLength(1)
    expect(Object.keys(body.consent).sort()).toEqual([
      'advertising',
      'analytics',
      'marketing',
      'personalization',
    ])
  })
})
