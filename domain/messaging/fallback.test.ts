import { describe, expect, it } from 'vitest'
import type { Decision } from './circuit'
import {
  ALL_SKIPPED,
  healthOutcomes,
  sendWithFallback,
  type FallbackProvider,
  type ProviderResult,
} from './fallback'

const T0 = Date.parse('2026-12-01T10:00:00.000Z')

/** A clock that moves a second each time it is read, so each attempt has its own time. */
function ticking() {
  let t = T0
  return () => (t += 1000)
}

const sent = (id: string): ProviderResult => ({ ok: true, providerMessageId: id, httpStatus: 202 })
const failure = (httpStatus: number | undefined, error: string, retryable = true) =>
  ({ ok: false, retryable, error, ...(httpStatus ? { httpStatus } : {}) }) as ProviderResult

function provider(
  kind: string,
  result: ProviderResult | Error,
  decision: Decision = 'use',
): FallbackProvider & { calls: number } {
  const entry = {
    kind,
    decision,
    calls: 0,
    send: async () => {
      entry.calls++
      if (result instanceof Error) throw result
      return result
    },
  }
  return entry
}

describe('sendWithFallback', () => {
  it('sends through the first provider and asks no other', async () => {
    const first = provider('sendgrid', sent('sg-1'))
    const second = provider('ses', sent('ses-1'))
    const { attempts, outcome } = await sendWithFallback([first, second], ticking())
    expect(outcome).toEqual({ status: 'sent', provider: 'sendgrid', providerMessageId: 'sg-1' })
    expect(attempts).toEqual([
      { provider: 'sendgrid', status: 'sent', at: '2026-12-01T10:00:01.000Z', httpStatus: 202 },
    ])
    expect(second.calls).toBe(0)
  })

  for (const [what, result] of [
    ['a 5xx', failure(503, 'SendGrid answered 503')],
    ['a 429', failure(429, 'SendGrid answered 429: slow down')],
    ['a timeout', failure(undefined, 'SendGrid: no answer in 10000 ms')],
    ['a network error', failure(undefined, 'SendGrid: network connection lost')],
  ] as const) {
    it(`moves to the next provider on ${what}`, async () => {
      const { attempts, outcome } = await sendWithFallback(
        [provider('sendgrid', result), provider('resend', sent('re-1'))],
        ticking(),
      )
      expect(outcome).toEqual({ status: 'sent', provider: 'resend', providerMessageId: 're-1' })
      expect(attempts.map((a) => [a.provider, a.status, a.error])).toEqual([
        ['sendgrid', 'retryable', result.ok ? undefined : result.error],
        ['resend', 'sent', undefined],
      ])
      expect(attempts[0]!.httpStatus).toBe(result.httpStatus)
    })
  }

  it('stops at a permanent failure: the message was refused, another provider would too', async () => {
    const next = provider('resend', sent('re-1'))
    const { attempts, outcome } = await sendWithFallback(
      [provider('postmark', failure(422, 'Postmark refused: inactive recipient', false)), next],
      ticking(),
    )
    expect(outcome).toEqual({ status: 'permanent', error: 'Postmark refused: inactive recipient' })
    expect(attempts).toEqual([
      {
        provider: 'postmark',
        status: 'permanent',
        at: '2026-12-01T10:00:01.000Z',
        httpStatus: 422,
        error: 'Postmark refused: inactive recipient',
      },
    ])
    expect(next.calls).toBe(0)
  })

  it('skips a provider whose circuit is open, recording it, and tries a probe like a use', async () => {
    const open = provider('sendgrid', sent('never'), 'skip')
    const { attempts, outcome } = await sendWithFallback(
      [open, provider('ses', sent('ses-1'), 'probe')],
      ticking(),
    )
    expect(open.calls).toBe(0)
    expect(outcome).toEqual({ status: 'sent', provider: 'ses', providerMessageId: 'ses-1' })
    expect(attempts).toEqual([
      { provider: 'sendgrid', status: 'skipped', at: '2026-12-01T10:00:01.000Z' },
      { provider: 'ses', status: 'sent', at: '2026-12-01T10:00:02.000Z', httpStatus: 202 },
    ])
  })

  it('is retryable when every provider failed retryably, with the last error', async () => {
    const { attempts, outcome } = await sendWithFallback(
      [
        provider('sendgrid', failure(500, 'SendGrid answered 500')),
        provider('ses', failure(undefined, 'SES: no answer in 10000 ms')),
      ],
      ticking(),
    )
    expect(outcome).toEqual({ status: 'retryable', error: 'SES: no answer in 10000 ms' })
    expect(attempts.map((a) => a.status)).toEqual(['retryable', 'retryable'])
  })

  it('is retryable when every circuit is open, having asked no provider', async () => {
    const providers = [provider('sendgrid', sent('x'), 'skip'), provider('ses', sent('y'), 'skip')]
    const { attempts, outcome } = await sendWithFallback(providers, ticking())
    expect(outcome).toEqual({ status: 'retryable', error: ALL_SKIPPED })
    expect(attempts.map((a) => a.status)).toEqual(['skipped', 'skipped'])
    expect(providers.map((p) => p.calls)).toEqual([0, 0])
  })

  it('takes a provider client that throws for a retryable failure and moves on', async () => {
    const { attempts, outcome } = await sendWithFallback(
      [provider('log', new Error('D1 is unavailable')), provider('ses', sent('ses-1'))],
      ticking(),
    )
    expect(attempts[0]).toMatchObject({ status: 'retryable', error: 'D1 is unavailable' })
    expect(outcome.status).toBe('sent')
  })
})

describe('healthOutcomes', () => {
  it('reports each provider asked, and not those skipped', async () => {
    const { attempts } = await sendWithFallback(
      [
        provider('sendgrid', sent('x'), 'skip'),
        provider('ses', failure(503, 'SES answered 503')),
        provider('postmark', failure(422, 'refused', false)),
      ],
      ticking(),
    )
    expect(healthOutcomes(attempts)).toEqual([
      { id: 'ses', ok: false, retryable: true },
      { id: 'postmark', ok: false, retryable: false },
    ])
  })
})
