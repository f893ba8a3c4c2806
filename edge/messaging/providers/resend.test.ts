import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { resendProvider } from './resend'
import { fakeFetch, jsonResponse, outgoingEmail } from './testing'

describe('the Resend client', () => {
  it('posts /emails with its key, the idempotency key, the tag and the headers', async () => {
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, { id: 're-1' }))
    const provider = resendProvider(
      { kind: 'resend', apiKey: 're_key' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail('msg_re'))).toEqual({
      ok: true,
      providerMessageId: 're-1',
      httpStatus: 200,
    })
    const [request] = requests
    expect(request!.method).toBe('POST')
    expect(request!.url).toBe('https://api.resend.com/emails')
    expect(request!.headers.get('Authorization')).toBe('Bearer re_key')
    expect(request!.headers.get('Idempotency-Key')).toBe('idem-msg_re')
    expect(await request!.json()).toEqual({
      from: 'Cairn Shop <news@shop.example>',
      to: ['ann@example.com'],
      reply_to: 'help@shop.example',
      subject: 'Your order',
      html: '<p>Thanks, Ann</p>',
      text: 'Thanks, Ann',
      headers: {
        'List-Unsubscribe': '<https://cairn.example/u/tok>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      tags: [{ name: 'cairn_message', value: 'msg_re' }],
    })
  })

  it('sends to the configured base URL', async () => {
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, { id: 're-1' }))
    const provider = resendProvider(
      { kind: 'resend', apiKey: 're_test_key', baseUrl: 'http://localhost:9999/resend' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    await provider.send(outgoingEmail())
    expect(requests[0]!.url).toBe('http://localhost:9999/resend/emails')
  })

  it('names its reason for a refusal, and retries while the same key is being sent', async () => {
    const answers = [
      jsonResponse(422, {
        statusCode: 422,
        name: 'validation_error',
        message: 'Invalid `to` field.',
      }),
      jsonResponse(409, {
        statusCode: 409,
        name: 'concurrent_idempotent_requests',
        message: 'Same idempotency key used while original request is still in progress.',
      }),
    ]
    const { fetch } = fakeFetch(() => answers.shift()!)
    const provider = resendProvider(
      { kind: 'resend', apiKey: 're_test_key' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail())).toEqual({
      ok: false,
      retryable: false,
      httpStatus: 422,
      error: 'Resend answered 422: Invalid `to` field.',
    })
    expect(await provider.send(outgoingEmail())).toMatchObject({
      ok: false,
      retryable: true,
      httpStatus: 409,
    })
  })
})
