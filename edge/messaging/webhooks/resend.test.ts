import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { parse, verify } from './resend'
import { WebhookRefused } from './webhook'

const SECRET = `whsec_${new Uint8Array(24).fill(7).toBase64()}`
const CONFIG = { kind: 'resend' as const, apiKey: 're_test', webhookSecret: SECRET }

/** Signs as Svix does for Resend: HMAC-SHA256 of id.timestamp.body, under svix-* headers. */
function signed(body: string, { secret = SECRET, at = new Date(), id = 'msg_2Kx' } = {}) {
  return {
    body,
    headers: new Headers({
      'svix-id': id,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': new Webhook(secret).sign(id, at, body),
    }),
  }
}

/** The shape of Resend's email.* webhooks (resend.com/docs/webhooks). */
function event(type: string, data: Record<string, unknown> = {}) {
  return JSON.stringify({
    type,
    created_at: '2026-12-06T12:00:00.000Z',
    data: {
      broadcast_id: null,
      created_at: '2026-12-06T11:59:58.000Z',
      email_id: '56761188-7520-42d8-8898-ff6fc54ce618',
      from: 'Cairn <hello@cairn.example>',
      to: ['ann@example.com'],
      subject: 'Welcome',
      tags: [{ name: 'cairn_message', value: 'msg_1' }],
      ...data,
    },
  })
}

describe('Resend webhook verification', () => {
  it('accepts a Svix signature made with the configured secret', async () => {
    expect(await verify(signed(event('email.delivered')), CONFIG)).toBe(true)
  })

  it('refuses a tampered body and a signature made with another secret', async () => {
    const request = signed(event('email.delivered'))
    expect(await verify({ ...request, body: event('email.complained') }, CONFIG)).toBe(false)
    const other = `whsec_${new Uint8Array(24).fill(9).toBase64()}`
    expect(await verify(signed(event('email.delivered'), { secret: other }), CONFIG)).toBe(false)
  })

  it('refuses a timestamp more than five minutes old', async () => {
    const old = signed(event('email.delivered'), { at: new Date(Date.now() - 6 * 60_000) })
    await expect(verify(old, CONFIG)).rejects.toThrow(/too old/)
  })

  it('refuses without the headers, and when no secret is configured', async () => {
    await expect(
      verify({ body: event('email.delivered'), headers: new Headers() }, CONFIG),
    ).rejects.toThrow(WebhookRefused)
    await expect(
      verify(signed(event('email.delivered')), { kind: 'resend', apiKey: 're_test' }),
    ).rejects.toThrow(/webhookSecret/)
  })
})

describe('Resend events', () => {
  const at = Date.parse('2026-12-06T12:00:00.000Z')
  const common = { provider: 'resend', eventId: 'msg_2Kx', messageId: 'msg_1', at }

  it('become feedback of each kind, with the Svix message id as the event id', () => {
    expect(parse(signed(event('email.delivered')))).toEqual([{ ...common, kind: 'delivered' }])
    expect(parse(signed(event('email.opened')))).toEqual([{ ...common, kind: 'opened' }])
    expect(
      parse(
        signed(
          event('email.clicked', {
            click: {
              ipAddress: '192.0.2.1',
              link: 'https://example.com/pricing',
              timestamp: '2026-12-06T12:00:00.000Z',
              userAgent: 'Mozilla/5.0',
            },
          }),
        ),
      ),
    ).toEqual([{ ...common, kind: 'clicked', url: 'https://example.com/pricing' }])
    expect(parse(signed(event('email.complained')))).toEqual([{ ...common, kind: 'complained' }])
  })

  it('count a bounce as hard unless Resend says it was transient', () => {
    const bounce = (type?: string) =>
      parse(
        signed(
          event('email.bounced', {
            bounce: {
              message: "The recipient's email address does not exist.",
              subType: 'General',
              ...(type ? { type } : {}),
            },
          }),
        ),
      )
    const detail = "The recipient's email address does not exist."
    expect(bounce('Permanent')).toEqual([{ ...common, kind: 'bounced', hard: true, detail }])
    expect(bounce()).toEqual([{ ...common, kind: 'bounced', hard: true, detail }])
    expect(bounce('Transient')).toEqual([{ ...common, kind: 'bounced', hard: false, detail }])
  })

  it('read tags as a name → value map too', () => {
    const body = event('email.delivered', { tags: { cairn_message: 'msg_9', category: 'x' } })
    expect(parse(signed(body))).toMatchObject([{ messageId: 'msg_9' }])
  })

  it('leave out mail Cairn did not send and events it does not track', () => {
    expect(parse(signed(event('email.delivered', { tags: [] })))).toEqual([])
    expect(parse(signed(event('email.sent')))).toEqual([])
    expect(parse(signed(event('email.delivery_delayed')))).toEqual([])
  })
})
