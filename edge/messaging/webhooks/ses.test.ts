import * as asn1js from 'asn1js'
import { describe, expect, it, vi } from 'vitest'
import type { Feedback } from '../../../contracts/messaging'
import { receiveFeedback } from './index'
import { isSnsUrl, parse, subjectPublicKeyInfo, verify } from './ses'
import { WebhookRefused } from './webhook'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cairn-ses-events'
const CONFIG = {
  kind: 'ses' as const,
  region: 'eu-west-1',
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'secret',
  snsTopicArn: TOPIC,
}

const HASH_OIDS = { 'SHA-1': '1.2.840.113549.1.1.5', 'SHA-256': '1.2.840.113549.1.1.11' }
type Hash = keyof typeof HASH_OIDS

async function rsaKeys(hash: Hash) {
  return (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash,
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair
}

function name(commonName: string) {
  return new asn1js.Sequence({
    value: [
      new asn1js.Set({
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: '2.5.4.3' }),
              new asn1js.Utf8String({ value: commonName }),
            ],
          }),
        ],
      }),
    ],
  })
}

/** A self-signed X.509 v3 certificate (RFC 5280) for the key pair, as PEM. */
async function selfSignedPem(keys: CryptoKeyPair, hash: Hash) {
  const spki = asn1js.fromBER(
    (await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer,
  ).result
  const algorithm = new asn1js.Sequence({
    value: [new asn1js.ObjectIdentifier({ value: HASH_OIDS[hash] }), new asn1js.Null()],
  })
  const tbs = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [new asn1js.Integer({ value: 2 })],
      }),
      new asn1js.Integer({ value: 4242 }),
      algorithm,
      name('sns.amazonaws.com'),
      new asn1js.Sequence({
        value: [
          new asn1js.UTCTime({ valueDate: new Date(NOW - 86_400_000) }),
          new asn1js.UTCTime({ valueDate: new Date(NOW + 86_400_000) }),
        ],
      }),
      name('sns.amazonaws.com'),
      spki,
    ],
  })
  const signature = await crypto.subtle.sign('RSASSA-PKCS1-v1_5', keys.privateKey, tbs.toBER())
  const certificate = new asn1js.Sequence({
    value: [tbs, algorithm, new asn1js.BitString({ valueHex: signature })],
  })
  const base64 = new Uint8Array(certificate.toBER()).toBase64()
  return `-----BEGIN CERTIFICATE-----\n${base64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`
}

let certificates = 0
/** A signing key, its certificate at a URL of its own (the module caches per URL), and SNS's signer. */
async function snsSigner(hash: Hash = 'SHA-256') {
  const keys = await rsaKeys(hash)
  const pem = await selfSignedPem(keys, hash)
  const certUrl = `https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test${++certificates}.pem`
  // As strict as the runtime's fetch, which refuses to run as another object's method.
  const fetch = vi.fn(async function (this: unknown, input: RequestInfo | URL) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation')
    const url = String(input)
    if (url === certUrl) return new Response(pem)
    if (url.startsWith('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')) {
      return new Response('<ConfirmSubscriptionResponse/>')
    }
    return new Response('not found', { status: 404 })
  })
  async function sign(fields: Record<string, string>, order: string[]) {
    const text = order
      .filter((field) => fields[field] !== undefined)
      .map((field) => `${field}\n${fields[field]}\n`)
      .join('')
    const signature = await crypto.subtle.sign(
      'RSASSA-PKCS1-v1_5',
      keys.privateKey,
      new TextEncoder().encode(text),
    )
    return new Uint8Array(signature).toBase64()
  }
  /** An SNS Notification as SNS posts it, signed over its canonical string. */
  async function notification(message: unknown, extra: Record<string, string> = {}) {
    const fields: Record<string, string> = {
      Type: 'Notification',
      MessageId: crypto.randomUUID(),
      TopicArn: TOPIC,
      Message: typeof message === 'string' ? message : JSON.stringify(message),
      Timestamp: new Date(NOW - 1000).toISOString(),
      SignatureVersion: hash === 'SHA-1' ? '1' : '2',
      SigningCertURL: certUrl,
      UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:1`,
      ...extra,
    }
    fields.Signature = await sign(fields, [
      'Message',
      'MessageId',
      'Subject',
      'Timestamp',
      'TopicArn',
      'Type',
    ])
    return fields
  }
  async function confirmation(extra: Record<string, string> = {}) {
    const fields: Record<string, string> = {
      Type: 'SubscriptionConfirmation',
      MessageId: crypto.randomUUID(),
      Token: 'token-1',
      TopicArn: TOPIC,
      Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
      SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=token-1`,
      Timestamp: new Date(NOW - 1000).toISOString(),
      SignatureVersion: '2',
      SigningCertURL: certUrl,
      ...extra,
    }
    fields.Signature = await sign(fields, [
      'Message',
      'MessageId',
      'SubscribeURL',
      'Timestamp',
      'Token',
      'TopicArn',
      'Type',
    ])
    return fields
  }
  return { fetch, certUrl, notification, confirmation }
}

function request(fields: unknown) {
  return {
    body: JSON.stringify(fields),
    headers: new Headers({ 'x-amz-sns-message-type': 'Notification' }),
  }
}

/** SES event publishing's Delivery event, as the SES developer guide shows it. */
const DELIVERY = {
  eventType: 'Delivery',
  mail: {
    timestamp: '2026-12-06T11:58:00.000Z',
    source: 'Cairn <hello@cairn.example>',
    messageId: '0102016e-example-ses-id',
    destination: ['ann@example.com'],
    tags: {
      'ses:configuration-set': ['cairn'],
      'ses:source-ip': ['192.0.2.1'],
      cairn_message: ['msg_1'],
    },
  },
  delivery: {
    timestamp: '2026-12-06T11:58:01.000Z',
    processingTimeMillis: 912,
    recipients: ['ann@example.com'],
    smtpResponse: '250 2.6.0 Message received',
    reportingMTA: 'a8-70.smtp-out.amazonses.com',
  },
}

describe('SNS signature verification', () => {
  it('accepts a Notification signed with SHA256withRSA (v2) and SHA1withRSA (v1)', async () => {
    for (const hash of ['SHA-256', 'SHA-1'] as const) {
      const sns = await snsSigner(hash)
      const deps = { fetch: sns.fetch, now: NOW }
      expect(await verify(request(await sns.notification(DELIVERY)), CONFIG, deps)).toBe(true)
      expect(sns.fetch).toHaveBeenCalledWith(sns.certUrl)
    }
  })

  it('fetches each certificate once per isolate', async () => {
    const sns = await snsSigner()
    const deps = { fetch: sns.fetch, now: NOW }
    for (let i = 0; i < 3; i++) {
      expect(await verify(request(await sns.notification(DELIVERY)), CONFIG, deps)).toBe(true)
    }
    expect(sns.fetch).toHaveBeenCalledTimes(1)
  })

  it('refuses a tampered message and a signature by another key', async () => {
    const sns = await snsSigner()
    const deps = { fetch: sns.fetch, now: NOW }
    const signed = await sns.notification(DELIVERY)
    const tampered = { ...signed, Message: signed.Message!.replace('Delivery', 'Complaint') }
    expect(await verify(request(tampered), CONFIG, deps)).toBe(false)
    const impostor = await snsSigner()
    const forged = { ...(await impostor.notification(DELIVERY)), SigningCertURL: sns.certUrl }
    expect(await verify(request(forged), CONFIG, deps)).toBe(false)
  })

  it('refuses a certificate URL off an SNS host or not https, without fetching it', async () => {
    const sns = await snsSigner()
    for (const url of [
      'https://evil.example/cert.pem',
      'http://sns.eu-west-1.amazonaws.com/cert.pem',
      'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem',
      'https://sns.eu-west-1.amazonaws.com:8443/cert.pem',
      'https://user@sns.eu-west-1.amazonaws.com/cert.pem',
      'https://s3.amazonaws.com/cert.pem',
      'https://169.254.169.254/latest/meta-data/',
    ]) {
      const message = await sns.notification(DELIVERY, { SigningCertURL: url })
      await expect(
        verify(request(message), CONFIG, { fetch: sns.fetch, now: NOW }),
        url,
      ).rejects.toThrow(/SigningCertURL/)
    }
    expect(sns.fetch).not.toHaveBeenCalled()
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x.pem')).toBe(true)
  })

  it('refuses another topic than the configured one, and a message over an hour old', async () => {
    const sns = await snsSigner()
    const deps = { fetch: sns.fetch, now: NOW }
    const foreign = await sns.notification(DELIVERY, {
      TopicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else',
    })
    await expect(verify(request(foreign), CONFIG, deps)).rejects.toThrow(/snsTopicArn/)
    const old = await sns.notification(DELIVERY, {
      Timestamp: new Date(NOW - 66 * 60_000).toISOString(),
    })
    await expect(verify(request(old), CONFIG, deps)).rejects.toThrow(WebhookRefused)
    expect(sns.fetch).not.toHaveBeenCalled()
    const withoutTopic = { ...CONFIG, snsTopicArn: undefined }
    expect(await verify(request(foreign), withoutTopic, deps)).toBe(true)
  })

  it('refuses what is not an SNS message at all', async () => {
    const deps = { fetch: vi.fn<typeof fetch>(), now: NOW }
    await expect(verify(request({ hello: 1 }), CONFIG, deps)).rejects.toThrow(/SNS message/)
    await expect(verify({ body: 'nope', headers: new Headers() }, CONFIG, deps)).rejects.toThrow(
      /SNS message/,
    )
  })

  it('reads the public key of a real-shaped certificate', async () => {
    const keys = await rsaKeys('SHA-256')
    const pem = await selfSignedPem(keys, 'SHA-256')
    const der = Uint8Array.fromBase64(pem.replace(/-----[A-Z ]+-----|\s/g, ''))
    const exported = new Uint8Array(
      (await crypto.subtle.exportKey('spki', keys.publicKey)) as ArrayBuffer,
    )
    expect(subjectPublicKeyInfo(der)).toEqual(exported)
    expect(subjectPublicKeyInfo(new Uint8Array([1, 2, 3]))).toBeNull()
  })
})

describe('SNS subscription confirmation', () => {
  it('is confirmed by visiting SubscribeURL once the signature holds', async () => {
    const sns = await snsSigner()
    const message = await sns.confirmation()
    const feedback = await receiveFeedback(CONFIG, request(message), { fetch: sns.fetch, now: NOW })
    expect(feedback).toEqual([])
    expect(sns.fetch.mock.calls.map(([url]) => String(url))).toEqual([
      sns.certUrl,
      message.SubscribeURL,
    ])
  })

  it('is not confirmed when forged, or when SubscribeURL leaves SNS', async () => {
    const sns = await snsSigner()
    const deps = { fetch: sns.fetch, now: NOW }
    const forged = { ...(await sns.confirmation()), Token: 'another' }
    await expect(receiveFeedback(CONFIG, request(forged), deps)).rejects.toThrow(WebhookRefused)
    const elsewhere = await sns.confirmation({ SubscribeURL: 'https://evil.example/confirm' })
    await expect(receiveFeedback(CONFIG, request(elsewhere), deps)).rejects.toThrow(/SubscribeURL/)
    // The certificate once (then cached); the confirmation link never.
    expect(sns.fetch.mock.calls.map(([url]) => String(url))).toEqual([sns.certUrl])
  })
})

describe('SES events', () => {
  /** Parsing comes after verification: the envelope's signature is not read here. */
  function feedbackOf(event: unknown): Feedback[] {
    return parse(
      request({
        Type: 'Notification',
        MessageId: 'sns-1',
        TopicArn: TOPIC,
        Message: typeof event === 'string' ? event : JSON.stringify(event),
        Timestamp: '2026-12-06T12:00:05.000Z',
        SignatureVersion: '2',
        Signature: 'unread',
        SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/unread.pem',
      }),
    )
  }

  const mail = DELIVERY.mail

  it('become feedback of each kind, with the SNS MessageId as the event id', () => {
    const common = { provider: 'ses', eventId: 'sns-1', messageId: 'msg_1' }
    expect(feedbackOf(DELIVERY)).toEqual([
      { ...common, kind: 'delivered', at: Date.parse('2026-12-06T11:58:01.000Z') },
    ])
    expect(
      feedbackOf({
        eventType: 'Open',
        mail,
        open: {
          ipAddress: '192.0.2.1',
          timestamp: '2026-12-06T11:59:00.000Z',
          userAgent: 'Mozilla/5.0',
        },
      }),
    ).toEqual([{ ...common, kind: 'opened', at: Date.parse('2026-12-06T11:59:00.000Z') }])
    expect(
      feedbackOf({
        eventType: 'Click',
        mail,
        click: {
          ipAddress: '192.0.2.1',
          link: 'https://example.com/pricing',
          linkTags: { samplekey0: ['samplevalue0'] },
          timestamp: '2026-12-06T11:59:30.000Z',
          userAgent: 'Mozilla/5.0',
        },
      }),
    ).toEqual([
      {
        ...common,
        kind: 'clicked',
        at: Date.parse('2026-12-06T11:59:30.000Z'),
        url: 'https://example.com/pricing',
      },
    ])
    expect(
      feedbackOf({
        eventType: 'Complaint',
        mail,
        complaint: {
          complainedRecipients: [{ emailAddress: 'ann@example.com' }],
          timestamp: '2026-12-06T12:00:00.000Z',
          feedbackId: '0102016e-feedback',
          complaintFeedbackType: 'abuse',
        },
      }),
    ).toEqual([
      {
        ...common,
        kind: 'complained',
        at: Date.parse('2026-12-06T12:00:00.000Z'),
        detail: 'abuse',
      },
    ])
  })

  it('tell a permanent bounce (hard) from a transient one (soft)', () => {
    const bounce = (bounceType: string, bounceSubType: string) => ({
      eventType: 'Bounce',
      mail,
      bounce: {
        bounceType,
        bounceSubType,
        bouncedRecipients: [{ emailAddress: 'ann@example.com', action: 'failed', status: '5.1.1' }],
        timestamp: '2026-12-06T11:58:02.000Z',
        feedbackId: '0102016e-bounce',
        reportingMTA: 'dsn; e226-55.smtp-out.amazonses.com',
      },
    })
    expect(feedbackOf(bounce('Permanent', 'General'))).toMatchObject([
      { kind: 'bounced', hard: true, detail: 'Permanent / General' },
    ])
    expect(feedbackOf(bounce('Transient', 'MailboxFull'))).toMatchObject([
      { kind: 'bounced', hard: false, detail: 'Transient / MailboxFull' },
    ])
  })

  it('read notifications (notificationType) and unsubscribes from all topics', () => {
    expect(
      feedbackOf({
        notificationType: 'Bounce',
        mail,
        bounce: { bounceType: 'Permanent', bounceSubType: 'Suppressed', timestamp: mail.timestamp },
      }),
    ).toMatchObject([{ kind: 'bounced', hard: true }])
    const subscription = (unsubscribeAll: boolean) => ({
      eventType: 'Subscription',
      mail,
      subscription: {
        contactList: 'cairn',
        timestamp: '2026-12-06T12:01:00.000Z',
        source: 'UnsubscribeHeader',
        newTopicPreferences: { unsubscribeAll, topicSubscriptionStatus: [] },
        oldTopicPreferences: { unsubscribeAll: false, topicSubscriptionStatus: [] },
      },
    })
    expect(feedbackOf(subscription(true))).toMatchObject([{ kind: 'unsubscribed' }])
    expect(feedbackOf(subscription(false))).toEqual([])
  })

  it('leave out mail Cairn did not send, other event types and non-JSON messages', () => {
    const foreign = { ...DELIVERY, mail: { ...mail, tags: { 'ses:configuration-set': ['x'] } } }
    expect(feedbackOf(foreign)).toEqual([])
    expect(feedbackOf({ eventType: 'Send', mail, send: {} })).toEqual([])
    expect(feedbackOf('Successfully validated SNS topic for Amazon SES event publishing.')).toEqual(
      [],
    )
  })
})
