import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { postmarkProvider } from './postmark'
import { fakeFetch, jsonResponse, outgoingEmail } from './testing'

describe('the Postmark client', () => {
  it('posts /email with its server token, metadata, stream and headers', async () => {
    const { fetch, requests } = fakeFetch(() =>
      jsonResponse(200, { To: 'ann@example.com', MessageID: 'pm-1', ErrorCode: 0, Message: 'OK' }),
    )
    const provider = postmarkProvider(
      { kind: 'postmark', serverToken: 'pm-token', messageStream: 'broadcast' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail('msg_pm'))).toEqual({
      ok: true,
      providerMessageId: 'pm-1',
      httpStatus: 200,
    })
    const [request] = requests
    expect(request!.method).toBe('POST')
    expect(request!.url).toBe('https://api.postmarkapp.com/email')
    expect(request!.headers.get('X-Postmark-Server-Token')).toBe('pm-token')
    expect(request!.headers.get('Accept')).toBe('application/json')
    expect(await request!.json()).toEqual({
      From: 'Cairn Shop <news@shop.example>',
      To: 'ann@example.com',
      ReplyTo: 'help@shop.example',
      Subject: 'Your order',
      HtmlBody: '<p>Thanks, Ann</p>',
      TextBody: 'Thanks, Ann',
      Headers: [
        { Name: 'List-Unsubscribe', Value: '<https://cairn.example/u/tok>' },
        { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
      ],
      Metadata: { cairn_message: 'msg_pm' },
      MessageStream: 'broadcast',
    })
  })

  it('sends to the configured base URL, on the default stream when none is named', async () => {
    const { fetch, requests } = fakeFetch(() => jsonResponse(200, { MessageID: 'pm-1' }))
    const provider = postmarkProvider(
      { kind: 'postmark', serverToken: 'pm-server-token', baseUrl: 'http://127.0.0.1:8080' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    await provider.send(outgoingEmail())
    expect(requests[0]!.url).toBe('http://127.0.0.1:8080/email')
    expect(await requests[0]!.json()).not.toHaveProperty('MessageStream')
  })

  it('refuses the message for its ErrorCodes about it, and retries those about the account', async () => {
    const cases: [number, number, string, boolean][] = [
      [422, 300, 'Invalid email request', false],
      [422, 406, 'You tried to send to a recipient that has been marked as inactive.', false],
      [422, 405, 'Not allowed to send: you have run out of credits.', true],
      [422, 412, 'Your account is pending approval.', true],
      [401, 10, 'The Server Token you provided was invalid.', true],
    ]
    for (const [status, code, message, retryable] of cases) {
      const { fetch } = fakeFetch(() => jsonResponse(status, { ErrorCode: code, Message: message }))
      const provider = postmarkProvider(
        { kind: 'postmark', serverToken: 'pm-server-token' },
        { fetch, db: env.DB, contactKey: 'ann' },
      )
      expect(await provider.send(outgoingEmail()), `ErrorCode ${code}`).toEqual({
        ok: false,
        retryable,
        httpStatus: status,
        error: `Postmark answered ${status}: ${message} (ErrorCode ${code})`,
      })
    }
  })
})
