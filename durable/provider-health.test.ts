import { env, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { uid } from '../test/support/api'
import { ProviderHealth } from './provider-health'

const T0 = Date.parse('2026-12-01T10:00:00.000Z')
const s = (seconds: number) => T0 + seconds * 1000

/** Each test its own object: storage is shared by the tests of a file. */
const healthObject = () => env.PROVIDER_HEALTH.get(env.PROVIDER_HEALTH.idFromName(uid('health')))

const failure = (id: string) => ({ id, ok: false, retryable: true })
const fiveFailures = (id: string) => Array.from({ length: 5 }, () => failure(id))

describe('ProviderHealth', () => {
  it('uses every provider it has heard nothing about', async () => {
    const health = healthObject()
    expect(await health.decide(['sendgrid', 'ses'], T0)).toEqual({ sendgrid: 'use', ses: 'use' })
    expect(await health.states()).toEqual({})
  })

  it('opens a circuit after five retryable failures and skips it while open', async () => {
    const health = healthObject()
    await health.report(fiveFailures('sendgrid').slice(0, 4), T0)
    expect(await health.decide(['sendgrid'], s(1))).toEqual({ sendgrid: 'use' })
    await health.report([failure('sendgrid'), { id: 'ses', ok: true, retryable: false }], s(1))
    expect(await health.decide(['sendgrid', 'ses'], s(2))).toEqual({ sendgrid: 'skip', ses: 'use' })
    expect(await health.decide(['sendgrid'], s(30.999))).toEqual({ sendgrid: 'skip' })
    expect((await health.states()).sendgrid).toEqual({
      state: 'open',
      failures: 5,
      openUntil: s(31),
      coolDownMs: 30_000,
      probeLeaseUntil: null,
    })
  })

  it('does not count refused messages against a provider', async () => {
    const health = healthObject()
    const refused = Array.from({ length: 10 }, () => ({
      id: 'postmark',
      ok: false,
      retryable: false,
    }))
    await health.report(refused, T0)
    expect(await health.decide(['postmark'], T0)).toEqual({ postmark: 'use' })
  })

  it('grants exactly one probe after the cool-down to two callers racing', async () => {
    const health = healthObject()
    await health.report(fiveFailures('resend'), T0)
    const racing = await Promise.all([
      health.decide(['resend'], s(30)),
      health.decide(['resend'], s(30)),
    ])
    expect(racing.map((d) => d.resend).sort()).toEqual(['probe', 'skip'])
    // Whoever asks while the probe is out skips too.
    expect(await health.decide(['resend'], s(40))).toEqual({ resend: 'skip' })
  })

  it('closes on the probe succeeding', async () => {
    const health = healthObject()
    await health.report(fiveFailures('ses'), T0)
    expect(await health.decide(['ses'], s(30))).toEqual({ ses: 'probe' })
    await health.report([{ id: 'ses', ok: true, retryable: false }], s(31))
    expect(await health.decide(['ses'], s(31))).toEqual({ ses: 'use' })
    expect((await health.states()).ses).toMatchObject({ state: 'closed', failures: 0 })
  })

  it('doubles the cool-down when the probe fails', async () => {
    const health = healthObject()
    await health.report(fiveFailures('sendgrid'), T0)
    expect(await health.decide(['sendgrid'], s(30))).toEqual({ sendgrid: 'probe' })
    await health.report([failure('sendgrid')], s(32))
    expect((await health.states()).sendgrid).toMatchObject({
      state: 'open',
      openUntil: s(92),
      coolDownMs: 60_000,
    })
    expect(await health.decide(['sendgrid'], s(91))).toEqual({ sendgrid: 'skip' })
    expect(await health.decide(['sendgrid'], s(92))).toEqual({ sendgrid: 'probe' })
    await health.report([failure('sendgrid')], s(93))
    expect((await health.states()).sendgrid).toMatchObject({
      openUntil: s(213),
      coolDownMs: 120_000,
    })
  })

  it('gives the probe to another caller when the first never reports', async () => {
    const health = healthObject()
    await health.report(fiveFailures('ses'), T0)
    expect(await health.decide(['ses'], s(30))).toEqual({ ses: 'probe' })
    expect(await health.decide(['ses'], s(59))).toEqual({ ses: 'skip' })
    expect(await health.decide(['ses'], s(60))).toEqual({ ses: 'probe' })
  })

  it('keeps its circuits in its SQLite storage', async () => {
    const health = healthObject()
    await health.report(fiveFailures('postmark'), T0)
    await runInDurableObject(health, (instance: ProviderHealth, state) => {
      const rows = state.storage.sql.exec('SELECT id, state, failures FROM circuits').toArray()
      expect(rows).toEqual([{ id: 'postmark', state: 'open', failures: 5 }])
      expect(instance.decide(['postmark'], s(1))).toEqual({ postmark: 'skip' })
    })
  })
})
