import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { mailbox, sendgridProvider } from './sendgrid'
import { fakeFetch, jsonResponse, outgoingEmail } from './testing'

const accepted = () => new Response(null, { status: 202, headers: { 'X-Message-Id': 'sg-1' } })

describe('the SendGrid client', () => {
  it('posts v3 mail/send with its key, both parts, the headers and the message id', async () => {
    const { fetch, requests } = fakeFetch(accepted)
    const provider = sendgridProvider(
      { kind: 'sendgrid', apiKey: 'SG.key' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail('msg_sg'))).toEqual({
      ok: true,
      providerMessageId: 'sg-1',
      httpStatus: 202,
    })
    const [request] = requests
    expect(request!.method).toBe('POST')
    expect(request!.url).toBe('https://api.sendgrid.com/v3/mail/send')
    expect(request!.headers.get('Authorization')).toBe('Bearer SG.key')
    expect(request!.headers.get('Content-Type')).toBe('application/json')
    expect(await request!.json()).toEqual({
      personalizations: [{ to: [{ email: 'ann@example.com' }] }],
      from: { email: 'news@shop.example', name: 'Cairn Shop' },
      reply_to: { email: 'help@shop.example' },
      subject: 'Your order',
      content: [
        { type: 'text/plain', value: 'Thanks, Ann' },
        { type: 'text/html', value: '<p>Thanks, Ann</p>' },
      ],
      headers: {
        'List-Unsubscribe': '<https://cairn.example/u/tok>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      custom_args: { cairn_message: 'msg_sg' },
    })
  })

  it('sends to the configured base URL, and names SendGrid’s reason for a refusal', async () => {
    const { fetch, requests } = fakeFetch(() =>
      jsonResponse(400, {
        errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to' }],
      }),
    )
    const provider = sendgridProvider(
      { kind: 'sendgrid', apiKey: 'SG.key', baseUrl: 'https://api.eu.sendgrid.com/' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail())).toEqual({
      ok: false,
      retryable: false,
      httpStatus: 400,
      error: 'SendGrid answered 400: Does not contain a valid address.',
    })
    expect(requests[0]!.url).toBe('https://api.eu.sendgrid.com/v3/mail/send')
  })

  it('leaves out an empty text part, which SendGrid would refuse', async () => {
    const { fetch, requests } = fakeFetch(accepted)
    const provider = sendgridProvider(
      { kind: 'sendgrid', apiKey: 'SG.test-key' },
      { fetch, db: env.DB, contactKey: 'ann' },
    )
    await provider.send({ ...outgoingEmail(), text: '' })
    const body = (await requests[0]!.json()) as { content: { type: string }[] }
    expect(body.content.map((part) => part.type)).toEqual(['text/html'])
  })
})

describe('mailbox', () => {
  it('splits a display name from its address', () => {
    expect(mailbox('Cairn Shop <news@shop.example>')).toEqual({
      email: 'news@shop.example',
      name: 'Cairn Shop',
    })
    expect(mailbox('"Shop, Inc." <news@shop.example>')).toEqual({
      email: 'news@shop.example',
      name: 'Shop, Inc.',
    })
    expect(mailbox('<news@shop.example>')).toEqual({ email: 'news@shop.example' })
    expect(mailbox(' news@shop.example ')).toEqual({ email: 'news@shop.example' })
  })
})
