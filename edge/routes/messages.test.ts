import { env, SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, errorOf, eventually, send, uid } from '../../test/support/api'

/** The transactional API, the message log and the messaging settings over HTTP. */

let writeKey: string
const template = uid('receipt')

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Messages API tests' })).writeKey
  const response = await api('/api/templates', {
    method: 'POST',
    json: {
      name: template,
      kind: 'transactional',
      subject: 'Your receipt',
      html: '<p>Thanks {{ contact.traits.name }}: {{ data.total }}</p>',
    },
  })
  expect(response.status).toBe(201)
})

async function person(traits: Record<string, unknown> = {}) {
  const user = uid('user')
  await send('/v1/identify', writeKey, {
    userId: user,
    traits: { email: `${user}@example.com`, name: 'Grace', ...traits },
  })
  return user
}

function sendMessage(body: Record<string, unknown>) {
  return api('/api/messages/send', { method: 'POST', json: body })
}

type Listed = { items: { id: string; status: string; contactId: string }[]; cursor: string | null }

describe('POST /api/messages/send', () => {
  it('answers the message id, and the log provider (the local default) sends it', async () => {
    const user = await person()
    const response = await sendMessage({ contactId: user, template, data: { total: '€42' } })
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as { id: string; status: string; duplicate: boolean }
    expect(accepted).toMatchObject({ status: 'queued', duplicate: false })
    let detail: any
    await eventually(async () => {
      detail = await (await api(`/api/messages/${accepted.id}`)).json()
      return detail.status === 'sent'
    })
    expect(detail).toMatchObject({
      contactId: user,
      template,
      subject: 'Your receipt',
      kind: 'transactional',
      attempts: [expect.objectContaining({ provider: 'log', status: 'sent' })],
      rendered: {
        to: `${user}@example.com`,
        html: '<p>Thanks Grace: €42</p>',
        text: 'Thanks Grace: €42',
      },
    })
  })

  it('erases a person’s messages and the log provider’s copies with them', async () => {
    const user = await person()
    const { id } = (await (await sendMessage({ contactId: user, template })).json()) as {
      id: string
    }
    await eventually(
      async () =>
        (await env.DB.prepare('SELECT COUNT(*) AS n FROM logged_emails WHERE message_id = ?')
          .bind(id)
          .first<{ n: number }>())!.n === 1,
    )
    const erasure = await api('/api/privacy/erasure', {
      method: 'POST',
      json: { email: `${user}@example.com` },
    })
    const request = (await erasure.json()) as { id: string }
    let receipt: any
    await eventually(async () => {
      receipt = await (await api(`/api/privacy/erasure/${request.id}`)).json()
      return receipt.status === 'completed'
    })
    expect(JSON.stringify(receipt)).toContain('messages')
    for (const table of ['messages', 'logged_emails', 'message_events']) {
      const column =
        table === 'logged_emails' ? 'message_id' : table === 'messages' ? 'id' : 'contact_key'
      const value = column === 'contact_key' ? user : id
      const row = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`)
        .bind(value)
        .first<{ n: number }>()
      expect(row!.n, table).toBe(0)
    }
    await errorOf(await api(`/api/messages/${id}`), 404, 'not_found')
  })

  it('sends nothing more for a second call with the same idempotency key', async () => {
    const user = await person()
    const body = { contactId: user, template, idempotencyKey: uid('order') }
    const first = (await (await sendMessage(body)).json()) as { id: string }
    const second = (await (await sendMessage(body)).json()) as { id: string; duplicate: boolean }
    expect(second).toMatchObject({ id: first.id, duplicate: true })
    await eventually(async () => {
      const page = (await (await api(`/api/messages?contactId=${user}`)).json()) as Listed
      return page.items.length === 1 && page.items[0]!.status === 'sent'
    })
  })

  it('follows a merged contact to the contact that absorbed it', async () => {
    const anonymousId = uid('device')
    const user = uid('user')
    await send('/v1/track', writeKey, { anonymousId, event: 'Seen' })
    await send('/v1/identify', writeKey, {
      userId: user,
      anonymousId,
      traits: { email: `${user}@example.com` },
    })
    const response = await sendMessage({ contactId: `anon:${anonymousId}`, template })
    expect(response.status).toBe(202)
    const { id } = (await response.json()) as { id: string }
    await eventually(async () => {
      const row = await env.DB.prepare('SELECT contact_key FROM messages WHERE id = ?')
        .bind(id)
        .first<{ contact_key: string }>()
      return row?.contact_key === user
    })
  })

  it('refuses an unknown contact or template and a malformed body, naming them', async () => {
    const user = await person()
    await errorOf(await sendMessage({ contactId: uid('nobody'), template }), 404, 'not_found')
    const missing = await errorOf(
      await sendMessage({ contactId: user, template: 'no-such-template' }),
      404,
      'not_found',
    )
    expect(missing.message).toContain('no-such-template')
    const bad = await errorOf(await sendMessage({ contactId: user }), 400, 'invalid_request')
    expect(bad.message).toContain('template')
    await errorOf(
      await sendMessage({ contactId: user, template, extra: 1 }),
      400,
      'invalid_request',
    )
  })

  it('lets an analyst read the log but not send', async () => {
    const key = await api('/api/keys', {
      method: 'POST',
      json: { name: uid('a'), role: 'analyst' },
    })
    const analyst = ((await key.json()) as { key: string }).key
    const user = await person()
    await errorOf(
      await api('/api/messages/send', {
        method: 'POST',
        json: { contactId: user, template },
        key: analyst,
      }),
      403,
      'forbidden',
    )
    expect((await api('/api/messages', { key: analyst })).status).toBe(200)
  })
})

describe('marketing and the one-click unsubscribe', () => {
  it('carries a signed List-Unsubscribe whose one-click POST stops the next marketing message', async () => {
    const promo = uid('promo')
    const created = await api('/api/templates', {
      method: 'POST',
      json: { name: promo, kind: 'marketing', subject: 'Sale', html: '<p>20% off</p>' },
    })
    expect(created.status).toBe(201)
    const user = await person()
    await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { analytics: true, marketing: true, personalization: false, advertising: false },
      policyVersion: 'v1',
      source: 'banner',
    })
    const first = (await (await sendMessage({ contactId: user, template: promo })).json()) as {
      id: string
    }
    let detail: any
    await eventually(async () => {
      detail = await (await api(`/api/messages/${first.id}`)).json()
      return detail.status === 'sent'
    })
    const headers = detail.rendered.headers as Record<string, string>
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    const url = /^<(.+)>$/.exec(headers['List-Unsubscribe']!)![1]!
    // As a mail client does it (RFC 8058): a POST without any login.
    const path = new URL(url).pathname
    const unsubscribed = await SELF.fetch(`https://cairn.test${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    })
    expect(unsubscribed.status).toBe(200)
    const second = await sendMessage({ contactId: user, template: promo })
    expect(await second.json()).toMatchObject({
      status: 'suppressed',
      reason: 'unsubscribed from all marketing',
    })
    // A tampered token unsubscribes no one.
    const forged = await SELF.fetch(`https://cairn.test${path.slice(0, -2)}xx`, { method: 'POST' })
    expect(forged.status).toBe(400)
  })
})

describe('GET /api/messages', () => {
  it('filters by contact and status and pages newest first without gaps', async () => {
    const user = await person()
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      const response = await sendMessage({ contactId: user, template })
      ids.push(((await response.json()) as { id: string }).id)
    }
    await eventually(async () => {
      const page = (await (
        await api(`/api/messages?contactId=${user}&status=sent&limit=1000`)
      ).json()) as Listed
      return page.items.length === 5
    })
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const query = `contactId=${user}&limit=2${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await (await api(`/api/messages?${query}`)).json()) as Listed
      seen.push(...page.items.map((m) => m.id))
      cursor = page.cursor
    } while (cursor)
    expect(seen.sort()).toEqual([...ids].sort())
    const none = (await (
      await api(`/api/messages?contactId=${user}&status=bounced`)
    ).json()) as Listed
    expect(none.items).toEqual([])
    await errorOf(await api('/api/messages?status=lost'), 400, 'invalid_request')
    await errorOf(await api('/api/messages?cursor=not-ours'), 400, 'invalid_cursor')
  })

  it('filters by template, with the other filters', async () => {
    const user = await person()
    const other = uid('other')
    const created = await api('/api/templates', {
      method: 'POST',
      json: { name: other, kind: 'transactional', subject: 'Other', html: '<p>other</p>' },
    })
    expect(created.status).toBe(201)
    const { id: otherId } = (await created.json()) as { id: string }
    const mine = (await (await sendMessage({ contactId: user, template })).json()) as { id: string }
    const theirs = (await (await sendMessage({ contactId: user, template: otherId })).json()) as {
      id: string
    }
    const listed = async (query: string) =>
      ((await (await api(`/api/messages?${query}`)).json()) as Listed).items.map((m) => m.id)
    await eventually(async () => (await listed(`contactId=${user}`)).length === 2)
    expect(await listed(`contactId=${user}&template=${otherId}`)).toEqual([theirs.id])
    expect(await listed(`contactId=${user}&template=${template}`)).toEqual([mine.id])
    expect(await listed(`contactId=${user}&template=no-such-template`)).toEqual([])
  })
})

describe('the email error rate in the overview', () => {
  it('counts failures among the messages that reached an end at a provider', async () => {
    const day = '2001-02-03'
    const insert = (id: string, status: string) =>
      env.DB.prepare(
        `INSERT INTO messages (id, contact_key, template_id, kind, status, attempts, version,
           created_at, updated_at) VALUES (?, 'someone', ?, 'marketing', ?, '[]', 1, ?, ?)`,
      ).bind(id, template, status, `${day}T10:00:00.000Z`, `${day}T10:00:01.000Z`)
    await env.DB.batch([
      ...['sent', 'delivered', 'opened'].map((status, i) => insert(uid(`m${i}`), status)),
      insert(uid('f'), 'failed'),
      // Never tried at a provider: neither sent nor failed.
      insert(uid('n'), 'no_consent'),
      insert(uid('q'), 'queued'),
    ])
    const overview = (await (await api(`/api/insights/overview?from=${day}&to=${day}`)).json()) as {
      messages: unknown
    }
    expect(overview.messages).toEqual({ total: 6, sent: 3, failed: 1, errorRate: 0.25 })
    const quiet = (await (
      await api('/api/insights/overview?from=2001-01-01&to=2001-01-02')
    ).json()) as { messages: unknown }
    expect(quiet.messages).toEqual({ total: 0, sent: 0, failed: 0, errorRate: null })
  })
})

describe('messaging settings and subscriptions', () => {
  it('keeps the sender, cap and quiet hours, and names what is wrong', async () => {
    const settings = {
      from: 'Shop <hello@shop.example>',
      frequencyCap: { count: 3, per: { days: 7 } },
      quietHours: { start: '21:00', end: '08:00' },
      timezone: 'Europe/Paris',
    }
    const put = await api('/api/messaging/settings', { method: 'PUT', json: settings })
    expect(put.status).toBe(200)
    expect(await (await api('/api/messaging/settings')).json()).toEqual(settings)
    const clock = await errorOf(
      await api('/api/messaging/settings', {
        method: 'PUT',
        json: { ...settings, quietHours: { start: '25:00', end: '08:00' } },
      }),
      400,
      'invalid_request',
    )
    expect(clock.message).toContain('quietHours.start')
    const zone = await errorOf(
      await api('/api/messaging/settings', {
        method: 'PUT',
        json: { ...settings, timezone: 'Mars/Olympus' },
      }),
      400,
      'invalid_request',
    )
    expect(zone.message).toContain('timezone')
    // Back to no cap or quiet hours, as the other tests of this file expect.
    await api('/api/messaging/settings', { method: 'PUT', json: { from: settings.from } })
  })

  it('records subscription choices through the API and refuses an unknown group', async () => {
    const user = await person()
    const response = await api(`/api/contacts/${user}/subscriptions`, {
      method: 'PUT',
      json: { marketing: false },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ subscriptions: { marketing: false } })
    const unknown = await errorOf(
      await api(`/api/contacts/${user}/subscriptions`, {
        method: 'PUT',
        json: { 'no-such-group': true },
      }),
      400,
      'unknown_group',
    )
    expect(unknown.message).toContain('no-such-group')
  })
})
