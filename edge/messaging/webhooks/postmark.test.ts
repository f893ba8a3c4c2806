import { describe, expect, it } from 'vitest'
import { parse, verify } from './postmark'
import { WebhookRefused } from './webhook'

const CONFIG = {
  kind: 'postmark' as const,
  serverToken: 'server-token',
  webhookUsername: 'cairn',
  webhookPassword: 'correct horse battery staple',
}

function withCredentials(authorization: string | null, body = '{}') {
  const headers = new Headers()
  if (authorization !== null) headers.set('Authorization', authorization)
  return { body, headers }
}

const basic = (user: string, password: string) => `Basic ${btoa(`${user}:${password}`)}`

describe('Postmark webhook credentials', () => {
  it('accept the configured user and password', async () => {
    const request = withCredentials(basic('cairn', 'correct horse battery staple'))
    expect(await verify(request, CONFIG)).toBe(true)
  })

  it('refuse a wrong password, a wrong user and garbage', async () => {
    expect(await verify(withCredentials(basic('cairn', 'wrong')), CONFIG)).toBe(false)
    expect(await verify(withCredentials(basic('other', CONFIG.webhookPassword)), CONFIG)).toBe(
      false,
    )
    expect(await verify(withCredentials('Basic %%%'), CONFIG)).toBe(false)
  })

  it('refuse a request without Basic credentials', async () => {
    await expect(verify(withCredentials(null), CONFIG)).rejects.toThrow(WebhookRefused)
    await expect(verify(withCredentials('Bearer abc'), CONFIG)).rejects.toThrow(/Basic/)
  })

  it('refuse everything when no credentials are configured', async () => {
    const request = withCredentials(basic('', ''))
    await expect(verify(request, { kind: 'postmark', serverToken: 't' })).rejects.toThrow(
      /webhookUsername/,
    )
  })
})

describe('Postmark events', () => {
  // The shapes of Postmark's webhook reference (postmarkapp.com/developer/webhooks).
  const id = '883953f4-6105-42a2-a16a-77a8eac79483'
  const metadata = { cairn_message: 'msg_1', example: 'value' }
  const of = (record: Record<string, unknown>) => parse({ body: JSON.stringify(record) })

  it('become feedback of each kind, their id made of type, message and time', () => {
    expect(
      of({
        RecordType: 'Delivery',
        ServerID: 23,
        MessageStream: 'outbound',
        MessageID: id,
        Recipient: 'ann@example.com',
        Tag: 'welcome',
        DeliveredAt: '2026-12-06T12:00:00Z',
        Details: 'Test delivery webhook details',
        Metadata: metadata,
      }),
    ).toEqual([
      {
        provider: 'postmark',
        eventId: `Delivery:${id}:2026-12-06T12:00:00Z`,
        messageId: 'msg_1',
        kind: 'delivered',
        at: Date.parse('2026-12-06T12:00:00Z'),
      },
    ])
    expect(
      of({
        RecordType: 'Open',
        MessageStream: 'outbound',
        FirstOpen: true,
        Client: { Name: 'Chrome 35.0.1916.153' },
        MessageID: id,
        ReceivedAt: '2026-12-06T12:01:00Z',
        Recipient: 'ann@example.com',
        Metadata: metadata,
      }),
    ).toMatchObject([{ kind: 'opened', eventId: `Open:${id}:2026-12-06T12:01:00Z` }])
    expect(
      of({
        RecordType: 'Click',
        MessageStream: 'outbound',
        ClickLocation: 'HTML',
        OriginalLink: 'https://example.com/pricing',
        MessageID: id,
        ReceivedAt: '2026-12-06T12:02:00Z',
        Recipient: 'ann@example.com',
        Metadata: metadata,
      }),
    ).toMatchObject([{ kind: 'clicked', url: 'https://example.com/pricing' }])
    expect(
      of({
        RecordType: 'SpamComplaint',
        ID: 42,
        Type: 'SpamComplaint',
        TypeCode: 512,
        MessageID: id,
        BouncedAt: '2026-12-06T12:03:00Z',
        Email: 'ann@example.com',
        Metadata: metadata,
      }),
    ).toMatchObject([{ kind: 'complained', at: Date.parse('2026-12-06T12:03:00Z') }])
  })

  it('tell a hard bounce from a soft one', () => {
    const bounce = (Type: string, TypeCode: number, Description: string) =>
      of({
        RecordType: 'Bounce',
        ID: 692560173,
        Type,
        TypeCode,
        MessageID: id,
        Description,
        Details: 'Test bounce details',
        Email: 'ann@example.com',
        BouncedAt: '2026-12-06T12:04:00Z',
        Inactive: true,
        Metadata: metadata,
      })
    expect(
      bounce('HardBounce', 1, 'The server was unable to deliver your message (ex: unknown user).'),
    ).toMatchObject([
      {
        kind: 'bounced',
        hard: true,
        detail: 'The server was unable to deliver your message (ex: unknown user).',
      },
    ])
    expect(bounce('SoftBounce', 4096, 'Mailbox full')).toMatchObject([
      { kind: 'bounced', hard: false },
    ])
  })

  it("count only the recipient's own suppression as an unsubscribe", () => {
    const change = (SuppressSending: boolean, SuppressionReason: string | null) =>
      of({
        RecordType: 'SubscriptionChange',
        MessageID: id,
        ServerID: 23,
        MessageStream: 'outbound',
        ChangedAt: '2026-12-06T12:05:00Z',
        Recipient: 'ann@example.com',
        Origin: 'Recipient',
        SuppressSending,
        SuppressionReason,
        Tag: 'welcome',
        Metadata: metadata,
      })
    expect(change(true, 'ManualSuppression')).toMatchObject([{ kind: 'unsubscribed' }])
    expect(change(true, 'HardBounce')).toEqual([])
    expect(change(false, null)).toEqual([])
  })

  it('leave out mail Cairn did not send', () => {
    expect(
      of({
        RecordType: 'Delivery',
        MessageID: id,
        DeliveredAt: '2026-12-06T12:00:00Z',
        Metadata: {},
      }),
    ).toEqual([])
  })
})
