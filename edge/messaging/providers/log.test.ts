import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { sendWithFallback } from '../../../domain/messaging/fallback'
import { uid } from '../../../test/support/api'
import { createProvider } from './index'
import { outgoingEmail } from './testing'

const unreachable = (() => {
  throw new Error('the log provider has no network')
}) as typeof fetch

function storedEmail(messageId: string) {
  return env.DB.prepare('SELECT * FROM logged_emails WHERE message_id = ?').bind(messageId).first()
}

describe('the log provider', () => {
  it('keeps the rendered message for the console and answers sent', async () => {
    const messageId = uid('msg')
    const provider = createProvider(
      { kind: 'log' },
      { fetch: unreachable, db: env.DB, contactKey: 'ann' },
    )
    expect(await provider.send(outgoingEmail(messageId))).toEqual({
      ok: true,
      providerMessageId: `log-${messageId}`,
    })
    expect(await storedEmail(messageId)).toEqual({
      message_id: messageId,
      contact_key: 'ann',
      to_address: 'ann@example.com',
      from_address: 'Cairn Shop <news@shop.example>',
      subject: 'Your order',
      html: '<p>Thanks, Ann</p>',
      text: 'Thanks, Ann',
      headers: JSON.stringify(outgoingEmail().headers),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
  })

  it('keeps the first copy of a message sent again', async () => {
    const messageId = uid('msg')
    const provider = createProvider(
      { kind: 'log' },
      { fetch: unreachable, db: env.DB, contactKey: 'ann' },
    )
    await provider.send(outgoingEmail(messageId))
    const again = await provider.send({ ...outgoingEmail(messageId), subject: 'Changed' })
    expect(again).toEqual({ ok: true, providerMessageId: `log-${messageId}` })
    expect(await storedEmail(messageId)).toMatchObject({ subject: 'Your order' })
  })

  it('is what sendWithFallback takes', async () => {
    const messageId = uid('msg')
    const provider = createProvider(
      { kind: 'log' },
      { fetch: unreachable, db: env.DB, contactKey: 'ann' },
    )
    const { outcome } = await sendWithFallback(
      [
        {
          kind: provider.kind,
          decision: 'use',
          send: () => provider.send(outgoingEmail(messageId)),
        },
      ],
      Date.now,
    )
    expect(outcome).toEqual({
      status: 'sent',
      provider: 'log',
      providerMessageId: `log-${messageId}`,
    })
  })
})
