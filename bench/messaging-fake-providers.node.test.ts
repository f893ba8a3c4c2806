import { afterEach, describe, expect, it } from 'vitest'
import { startFakeProviders, type FakeProviders } from './messaging-fake-providers.ts'

const SENDGRID_KEY = 'SG.test-key'
const RESEND_KEY = 're_test_key'

let fake: FakeProviders | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

const start = (failureRate: number, seed = 7) =>
  startFakeProviders({ failureRate, seed, sendgridKey: SENDGRID_KEY, resendKey: RESEND_KEY })

/** Resend's POST /emails as edge/messaging/providers/resend.ts sends it. */
function resendRequest(base: string, messageId: string, key = RESEND_KEY) {
  return fetch(`${base}/emails`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'idempotency-key': `key-${messageId}`,
    },
    body: JSON.stringify({
      from: 'Cairn <hello@example.com>',
      to: ['ada@example.com'],
      subject: 'Order shipped',
      html: '<p>Hi</p>',
      text: 'Hi',
      headers: {},
      tags: [{ name: 'cairn_message', value: messageId }],
    }),
  })
}

describe('the fake providers', () => {
  it('answers every SendGrid send 503 and notes when it was asked', async () => {
    fake = await start(0)
    const answer = await fetch(`${fake.sendgridBaseUrl}/v3/mail/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SENDGRID_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ custom_args: { cairn_message: 'msg_1' } }),
    })
    expect(answer.status).toBe(503)
    expect(fake.counts()).toMatchObject({ down: 1, accepted: 0 })
    expect(fake.downTimes()).toHaveLength(1)
  })

  it('records each acceptance by message id, a message accepted twice twice', async () => {
    fake = await start(0)
    const first = await resendRequest(fake.resendBaseUrl, 'msg_1')
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ id: expect.stringMatching(/^fake_/) })
    await resendRequest(fake.resendBaseUrl, 'msg_1')
    await resendRequest(fake.resendBaseUrl, 'msg_2')
    expect(fake.accepted().get('msg_1')).toEqual([
      expect.objectContaining({
        to: 'ada@example.com',
        subject: 'Order shipped',
        idempotencyKey: 'key-msg_1',
      }),
      expect.objectContaining({ to: 'ada@example.com' }),
    ])
    expect(fake.counts()).toMatchObject({ flaky: 3, accepted: 3, flakyFailed: 0 })
  })

  it('fails about the share asked for, the same requests for the same seed', async () => {
    const outcomes = async (seed: number) => {
      fake = await start(0.3, seed)
      const statuses: number[] = []
      for (let i = 0; i < 400; i++) {
        statuses.push((await resendRequest(fake.resendBaseUrl, `msg_${i}`)).status)
      }
      await fake.close()
      return statuses
    }
    const once = await outcomes(11)
    const failed = once.filter((status) => status === 500).length
    expect(failed).toBeGreaterThan(90)
    expect(failed).toBeLessThan(150)
    expect(await outcomes(11)).toEqual(once)
    expect(await outcomes(12)).not.toEqual(once)
    fake = undefined
  })

  it('refuses wrong credentials, a send without the message tag and unknown paths', async () => {
    fake = await start(0)
    expect((await resendRequest(fake.resendBaseUrl, 'msg_1', 're_wrong')).status).toBe(401)
    const untagged = await fetch(`${fake.resendBaseUrl}/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${RESEND_KEY}` },
      body: JSON.stringify({ to: ['ada@example.com'], subject: 'x' }),
    })
    expect(untagged.status).toBe(400)
    expect((await fetch(`${fake.resendBaseUrl}/domains`)).status).toBe(404)
    expect(fake.counts()).toMatchObject({ accepted: 0, refused: 3 })
    expect(Object.keys(fake.refusals())).toHaveLength(3)
  })
})
