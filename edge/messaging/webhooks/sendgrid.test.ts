import * as asn1js from 'asn1js'
import { describe, expect, it } from 'vitest'
import { parse, verify } from './sendgrid'
import { WebhookRefused } from './webhook'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const SIGNATURE = 'X-Twilio-Email-Event-Webhook-Signature'
const TIMESTAMP = 'X-Twilio-Email-Event-Webhook-Timestamp'

async function keyPair() {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair
  const spki = (await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer
  return { privateKey: keys.privateKey, publicKey: new Uint8Array(spki).toBase64() }
}

/** A DER INTEGER's content: no leading zeros, one added when the high bit would make it negative. */
function derInteger(bytes: Uint8Array) {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0) start++
  const trimmed = bytes.subarray(start)
  const positive = trimmed[0]! & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed
  return new asn1js.Integer({ valueHex: positive })
}

/** Signs as SendGrid does: ECDSA over timestamp + body, sent as base64 DER. */
async function signed(privateKey: CryptoKey, body: string, timestamp = String(NOW / 1000)) {
  const raw = new Uint8Array(
    await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      privateKey,
      new TextEncoder().encode(timestamp + body),
    ),
  )
  const der = new asn1js.Sequence({
    value: [derInteger(raw.subarray(0, 32)), derInteger(raw.subarray(32))],
  }).toBER()
  return {
    body,
    headers: new Headers({ [SIGNATURE]: new Uint8Array(der).toBase64(), [TIMESTAMP]: timestamp }),
  }
}

const BODY = JSON.stringify([
  { email: 'ann@example.com', event: 'delivered', sg_event_id: 'e1', timestamp: NOW / 1000 },
])

describe('SendGrid webhook verification', () => {
  it('accepts a body signed with the configured key, and refuses a tampered one', async () => {
    const { privateKey, publicKey } = await keyPair()
    const config = { kind: 'sendgrid' as const, apiKey: 'k', webhookPublicKey: publicKey }
    const tampered = BODY.replace('delivered', 'spamreport')
    // DER drops an integer's leading zero bytes: sign until r or s came out short (1 in ~128).
    let short = false
    for (let i = 0; i < 3000 && !short; i++) {
      const request = await signed(privateKey, BODY)
      short = Uint8Array.fromBase64(request.headers.get(SIGNATURE)!)[1]! < 0x44
      expect(await verify(request, config, { now: NOW })).toBe(true)
      expect(await verify({ ...request, body: tampered }, config, { now: NOW })).toBe(false)
    }
    expect(short).toBe(true)
  })

  it("verifies SendGrid's own published example (from @sendgrid/eventwebhook)", async () => {
    const config = {
      kind: 'sendgrid' as const,
      apiKey: 'k',
      webhookPublicKey:
        'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==',
    }
    const body =
      JSON.stringify([
        {
          email: 'hello@world.com',
          event: 'dropped',
          reason: 'Bounced Address',
          sg_event_id: 'ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA',
          sg_message_id:
            'LRzXl_NHStOGhQ4kofSm_A.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC76C-9.0',
          'smtp-id': '<LRzXl_NHStOGhQ4kofSm_A@ismtpd0039p1iad1.sendgrid.net>',
          timestamp: 1600112492,
        },
      ]) + '\r\n'
    const headers = new Headers({
      [SIGNATURE]:
        'MEUCIGHQVtGj+Y3LkG9fLcxf3qfI10QysgDWmMOVmxG0u6ZUAiEAyBiXDWzM+uOe5W0JuG+luQAbPIqHh89M15TluLtEZtM=',
      [TIMESTAMP]: '1600112502',
    })
    const then = { now: 1600112502_000 }
    expect(await verify({ body, headers }, config, then)).toBe(true)
    expect(await verify({ body: body.trim(), headers }, config, then)).toBe(false)
  })

  it('refuses a signature made with another key', async () => {
    const signer = await keyPair()
    const other = await keyPair()
    const request = await signed(signer.privateKey, BODY)
    const config = { kind: 'sendgrid' as const, apiKey: 'k', webhookPublicKey: other.publicKey }
    expect(await verify(request, config, { now: NOW })).toBe(false)
  })

  it('refuses a timestamp more than five minutes old (a replay) or ahead', async () => {
    const { privateKey, publicKey } = await keyPair()
    const config = { kind: 'sendgrid' as const, apiKey: 'k', webhookPublicKey: publicKey }
    const old = await signed(privateKey, BODY, String(NOW / 1000 - 301))
    await expect(verify(old, config, { now: NOW })).rejects.toThrow(/more than 5 minutes/)
    const ahead = await signed(privateKey, BODY, String(NOW / 1000 + 301))
    await expect(verify(ahead, config, { now: NOW })).rejects.toThrow(WebhookRefused)
    const recent = await signed(privateKey, BODY, String(NOW / 1000 - 299))
    expect(await verify(recent, config, { now: NOW })).toBe(true)
  })

  it('refuses without the headers, and when no public key is configured', async () => {
    const { privateKey, publicKey } = await keyPair()
    const config = { kind: 'sendgrid' as const, apiKey: 'k', webhookPublicKey: publicKey }
    const request = await signed(privateKey, BODY)
    await expect(
      verify({ body: BODY, headers: new Headers() }, config, { now: NOW }),
    ).rejects.toThrow(SIGNATURE)
    await expect(verify(request, { kind: 'sendgrid', apiKey: 'k' }, { now: NOW })).rejects.toThrow(
      /webhookPublicKey/,
    )
    await expect(
      verify(request, { ...config, webhookPublicKey: 'not a key' }, { now: NOW }),
    ).rejects.toThrow(/not a P-256 public key/)
    const garbled = new Headers(request.headers)
    garbled.set(SIGNATURE, 'bm90IERFUg==')
    expect(await verify({ body: BODY, headers: garbled }, config, { now: NOW })).toBe(false)
  })
})

describe('SendGrid events', () => {
  // The shapes of SendGrid's Event Webhook reference; custom_args arrive as top-level fields.
  const base = { email: 'ann@example.com', timestamp: 1765022400, cairn_message: 'msg_1' }
  const events = [
    { ...base, event: 'processed', sg_event_id: 'p1', sg_message_id: 'x.1' },
    { ...base, event: 'delivered', sg_event_id: 'd1', response: '250 OK', sg_message_id: 'x.1' },
    { ...base, event: 'open', sg_event_id: 'o1', useragent: 'Mozilla/5.0', ip: '203.0.113.9' },
    { ...base, event: 'click', sg_event_id: 'c1', url: 'https://example.com/pricing' },
    {
      ...base,
      event: 'bounce',
      sg_event_id: 'b1',
      type: 'bounce',
      reason: '550 5.1.1 The email account that you tried to reach does not exist',
      status: '5.1.1',
    },
    { ...base, event: 'bounce', sg_event_id: 'b2', type: 'blocked', reason: '421 try later' },
    { ...base, event: 'dropped', sg_event_id: 'x1', reason: 'Bounced Address' },
    { ...base, event: 'deferred', sg_event_id: 'f1', attempt: '1' },
    { ...base, event: 'spamreport', sg_event_id: 's1' },
    { ...base, event: 'unsubscribe', sg_event_id: 'u1' },
    { ...base, event: 'group_unsubscribe', sg_event_id: 'g1', asm_group_id: 7 },
    { email: 'bob@example.com', timestamp: 1765022400, event: 'open', sg_event_id: 'foreign' },
  ]

  it('become feedback of each kind, leaving out mail Cairn did not send', () => {
    const at = 1765022400_000
    const common = { provider: 'sendgrid', messageId: 'msg_1', at }
    expect(parse({ body: JSON.stringify(events) })).toEqual([
      { ...common, eventId: 'd1', kind: 'delivered' },
      { ...common, eventId: 'o1', kind: 'opened' },
      { ...common, eventId: 'c1', kind: 'clicked', url: 'https://example.com/pricing' },
      {
        ...common,
        eventId: 'b1',
        kind: 'bounced',
        hard: true,
        detail: '550 5.1.1 The email account that you tried to reach does not exist',
      },
      { ...common, eventId: 'b2', kind: 'bounced', hard: false, detail: '421 try later' },
      { ...common, eventId: 'x1', kind: 'bounced', hard: false, detail: 'Bounced Address' },
      { ...common, eventId: 's1', kind: 'complained' },
      { ...common, eventId: 'u1', kind: 'unsubscribed' },
      { ...common, eventId: 'g1', kind: 'unsubscribed' },
    ])
  })

  it('refuse a body that is not an array of events', () => {
    expect(() => parse({ body: '{"event":"open"}' })).toThrow(/array/)
    expect(() => parse({ body: 'not json' })).toThrow(/not JSON/)
  })
})
