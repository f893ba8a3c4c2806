import { env, SELF } from 'cloudflare:test'
import { Webhook } from 'standardwebhooks'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, BASE, createSource, errorOf, eventually, send, uid } from '../../test/support/api'
import { MAX_WEBHOOK_BYTES } from './email-webhooks'

const RESEND_SECRET = `whsec_${new Uint8Array(32).fill(5).toBase64()}`
const POSTMARK = { webhookUsername: 'cairn-hooks', webhookPassword: 'postmark-hook-password' }

const person = uid('webhook-person')
let messageId = ''

interface TimelineEvent {
  event?: string
  properties?: Record<string, unknown>
}

async function timeline(contact: string) {
  const response = await api(`/api/contacts/${contact}/events?limit=1000`)
  expect(response.status).toBe(200)
  return ((await response.json()) as { items: TimelineEvent[] }).items
}

async function feedbackEvents(name: string, message: string) {
  return (await timeline(person)).filter(
    (e) => e.event === name && e.properties?.messageId === message,
  )
}

function post(provider: string, body: string, headers: Record<string, string>) {
  return SELF.fetch(`${BASE}/webhooks/email/${provider}`, { method: 'POST', headers, body })
}

/** A Resend email.* webhook about `message`, signed as Svix signs it. */
function resendWebhook(type: string, message: string, id = uid('svix')) {
  const body = JSON.stringify({
    type,
    created_at: new Date().toISOString(),
    data: {
      created_at: new Date().toISOString(),
      email_id: crypto.randomUUID(),
      from: 'Cairn <hello@cairn.example>',
      to: ['ann@example.com'],
      subject: 'Your receipt',
      tags: [{ name: 'cairn_message', value: message }],
    },
  })
  const now = new Date()
  const headers = {
    'Content-Type': 'application/json',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(now.getTime() / 1000)),
    'svix-signature': new Webhook(RESEND_SECRET).sign(id, now, body),
  }
  return { body, headers }
}

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Webhooks' })
  const identified = await send('/v1/identify', writeKey, {
    userId: person,
    traits: { email: 'ann@example.com' },
  })
  expect(identified.status).toBe(200)
  const template = uid('receipt')
  const now = new Date().toISOString()
  await env.DB.prepare(
    `INSERT INTO templates (id, name, subject, html, kind, created_at, updated_at)
     VALUES (?, 'Receipt', 'Your receipt', '<p>Thanks</p>', 'transactional', ?, ?)`,
  )
    .bind(template, now, now)
    .run()
  const configured = await api('/api/messaging/providers', {
    method: 'PUT',
    json: [
      { kind: 'log' },
      { kind: 'resend', apiKey: 're_test_key_123', webhookSecret: RESEND_SECRET },
      { kind: 'postmark', serverToken: 'postmark-server-token', ...POSTMARK },
    ],
  })
  expect(configured.status).toBe(200)
  const sent = await api('/api/messages/send', {
    method: 'POST',
    json: { contactId: person, template },
  })
  expect(sent.status).toBe(202)
  messageId = ((await sent.json()) as { id: string }).id
  // The object reports the message to D1 through the events queue.
  await eventually(() =>
    env.DB.prepare('SELECT contact_key FROM messages WHERE id = ?').bind(messageId).first(),
  )
}, 30_000)

describe('POST /webhooks/email/:provider', () => {
  it("applies a signed event on the message's contact once, however often it is delivered", async () => {
    const webhook = resendWebhook('email.delivered', messageId)
    const first = await post('resend', webhook.body, webhook.headers)
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ received: 1, applied: 1 })
    expect(await feedbackEvents('Email Delivered', messageId)).toMatchObject([
      { properties: { messageId, provider: 'resend' } },
    ])

    const again = await post('resend', webhook.body, webhook.headers)
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ received: 1, applied: 0 })
    expect(await feedbackEvents('Email Delivered', messageId)).toHaveLength(1)
  })

  it('refuses a forged or tampered webhook with 401 and applies nothing', async () => {
    const webhook = resendWebhook('email.complained', messageId)
    const tampered = webhook.body.replace('Your receipt', 'Your receipt!')
    await errorOf(await post('resend', tampered, webhook.headers), 401, 'invalid_signature')
    const unsigned = { 'Content-Type': 'application/json' }
    await errorOf(await post('resend', webhook.body, unsigned), 401, 'invalid_signature')
    expect(await feedbackEvents('Email Complained', messageId)).toEqual([])
  })

  it("takes Postmark's Basic credentials, and refuses wrong ones", async () => {
    const body = JSON.stringify({
      RecordType: 'Open',
      MessageStream: 'outbound',
      FirstOpen: true,
      MessageID: crypto.randomUUID(),
      ReceivedAt: new Date().toISOString(),
      Recipient: 'ann@example.com',
      Metadata: { cairn_message: messageId },
    })
    const wrong = `Basic ${btoa(`${POSTMARK.webhookUsername}:guess`)}`
    await errorOf(
      await post('postmark', body, { 'Content-Type': 'application/json', Authorization: wrong }),
      401,
      'invalid_signature',
    )
    const right = `Basic ${btoa(`${POSTMARK.webhookUsername}:${POSTMARK.webhookPassword}`)}`
    const response = await post('postmark', body, {
      'Content-Type': 'application/json',
      Authorization: right,
    })
    expect(await response.json()).toEqual({ received: 1, applied: 1 })
    expect(await feedbackEvents('Email Opened', messageId)).toMatchObject([
      { properties: { provider: 'postmark' } },
    ])
  })

  it('asks the provider to retry an event on one of our messages D1 does not hold yet', async () => {
    const early = resendWebhook('email.delivered', `msg_${crypto.randomUUID()}`)
    const response = await post('resend', early.body, early.headers)
    await errorOf(response, 503, 'message_not_ready')
    expect(response.headers.get('Retry-After')).toBe('60')
  })

  it('ignores an event on a message that is not one of ours', async () => {
    const foreign = resendWebhook('email.delivered', 'someone-elses-id-42')
    const response = await post('resend', foreign.body, foreign.headers)
    expect(await response.json()).toEqual({ received: 1, applied: 0 })
  })

  it('answers 404 for a provider not configured and 400 for one Cairn does not know', async () => {
    await errorOf(await post('sendgrid', '[]', {}), 404, 'not_found')
    await errorOf(await post('mailchimp', '[]', {}), 400, 'invalid_request')
    await errorOf(await post('log', '[]', {}), 400, 'invalid_request')
  })

  it('refuses a body over 1 MB before reading it', async () => {
    const big = 'x'.repeat(MAX_WEBHOOK_BYTES + 1)
    await errorOf(await post('resend', big, {}), 413, 'payload_too_large')
  })

  it('is described in the OpenAPI document, open to anyone, with its providers', async () => {
    const doc = (await (await api('/api/openapi.json', { key: '' })).json()) as {
      paths: Record<string, Record<string, any>>
    }
    const operation = doc.paths['/webhooks/email/{provider}']?.post
    expect(operation.security).toEqual([])
    expect(operation.parameters).toMatchObject([
      { name: 'provider', in: 'path', schema: { enum: ['sendgrid', 'ses', 'resend', 'postmark'] } },
    ])
    expect(Object.keys(operation.responses)).toEqual(['200', '400', '401', '404', '413', '503'])
  })
})
