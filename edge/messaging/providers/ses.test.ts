import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { hex } from '../../../domain/hex'
import { sesProvider } from './ses'
import { fakeFetch, jsonResponse, outgoingEmail } from './testing'

const CONFIG = {
  kind: 'ses',
  region: 'eu-west-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
} as const

const encoder = new TextEncoder()

async function hmac(key: ArrayBuffer | string, text: string) {
  const raw = typeof key === 'string' ? encoder.encode(key) : key
  const imported = await crypto.subtle.importKey(
    'raw',
    raw,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return crypto.subtle.sign('HMAC', imported, encoder.encode(text))
}

const sha256 = async (bytes: ArrayBuffer | string) =>
  hex(
    await crypto.subtle.digest(
      'SHA-256',
      typeof bytes === 'string' ? encoder.encode(bytes) : bytes,
    ),
  )

/**
 * The SigV4 signature AWS computes for this request (docs.aws.amazon.com, "Create a signed AWS
 * API request"), written out here so the test does not take the signing library's word for it.
 */
async function expectedSignature(request: Request, signedHeaders: string, secret: string) {
  const amzDate = request.headers.get('X-Amz-Date')!
  const url = new URL(request.url)
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${name === 'host' ? url.host : request.headers.get(name)!.trim()}\n`)
    .join('')
  const canonicalRequest = [
    request.method,
    url.pathname,
    url.search.slice(1),
    canonicalHeaders,
    signedHeaders,
    await sha256(await request.clone().arrayBuffer()),
  ].join('\n')
  const scope = `${amzDate.slice(0, 8)}/eu-west-1/ses/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, await sha256(canonicalRequest)].join(
    '\n',
  )
  let key = await hmac(`AWS4${secret}`, amzDate.slice(0, 8))
  for (const part of ['eu-west-1', 'ses', 'aws4_request']) key = await hmac(key, part)
  return hex(await hmac(key, stringToSign))
}

describe('the SES client', () => {
  it('posts SendEmail v2 signed with SigV4 for ses in its region', async () => {
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, { MessageId: 'ses-1' }))
    const provider = sesProvider(
      { ...CONFIG, configurationSet: 'cairn-events' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail('msg_ses'))).toEqual({
      ok: true,
      providerMessageId: 'ses-1',
      httpStatus: 200,
    })
    const [request] = requests
    expect(request!.method).toBe('POST')
    expect(request!.url).toBe('https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails')
    const amzDate = request!.headers.get('X-Amz-Date')!
    expect(amzDate).toMatch(/^\d{8}T\d{6}Z$/)
    const authorization = request!.headers.get('Authorization')!
    const match =
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/(\d{8})\/eu-west-1\/ses\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        authorization,
      )
    expect(match, authorization).not.toBeNull()
    const [, date, signedHeaders, signature] = match!
    expect(date).toBe(amzDate.slice(0, 8))
    expect(signedHeaders!.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date']))
    expect(signature).toBe(
      await expectedSignature(request!, signedHeaders!, CONFIG.secretAccessKey),
    )

    expect(await request!.json()).toEqual({
      FromEmailAddress: 'Cairn Shop <news@shop.example>',
      Destination: { ToAddresses: ['ann@example.com'] },
      ReplyToAddresses: ['help@shop.example'],
      Content: {
        Simple: {
          Subject: { Data: 'Your order', Charset: 'UTF-8' },
          Body: {
            Html: { Data: '<p>Thanks, Ann</p>', Charset: 'UTF-8' },
            Text: { Data: 'Thanks, Ann', Charset: 'UTF-8' },
          },
          Headers: [
            { Name: 'List-Unsubscribe', Value: '<https://cairn.example/u/tok>' },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ],
        },
      },
      EmailTags: [{ Name: 'cairn_message', Value: 'msg_ses' }],
      ConfigurationSetName: 'cairn-events',
    })
  })

  it('sends to the configured base URL, still signed for ses in its region', async () => {
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, { MessageId: 'ses-1' }))
    const provider = sesProvider(
      { ...CONFIG, baseUrl: 'http://localhost:4566' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    await provider.send(outgoingEmail())
    const [request] = requests
    expect(request!.url).toBe('http://localhost:4566/v2/email/outbound-emails')
    expect(request!.headers.get('Authorization')).toContain('/eu-west-1/ses/aws4_request')
    expect(await request!.json()).not.toHaveProperty('ConfigurationSetName')
  })

  it('refuses a rejected message, and retries when the account may not send', async () => {
    const cases: [number, string, string, boolean][] = [
      [400, 'MessageRejected', 'Email address is not verified.', false],
      [400, 'BadRequestException', 'Missing final @domain', false],
      [400, 'SendingPausedException', 'Sending is paused for this account.', true],
      [400, 'AccountSuspendedException', 'Your account is suspended.', true],
      [429, 'TooManyRequestsException', 'Maximum sending rate exceeded.', true],
      [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match.', true],
    ]
    for (const [status, type, message, retryable] of cases) {
      const { fetch } = fakeFetch(() =>
        jsonResponse(
          status,
          { message },
          { 'X-Amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazon.ses/` },
        ),
      )
      const provider = sesProvider(CONFIG, { fetch, db: env.DB, contactKey: 'ann' })
      expect(await provider.send(outgoingEmail()), type).toEqual({
        ok: false,
        retryable,
        httpStatus: status,
        error: `SES answered ${status}: ${type}: ${message}`,
      })
    }
  })
})
