import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors'
import { changeProviders, readProviders, viewProviders, writeProviders } from './provider-config'

const RESEND_KEY = 're_resend-secret-value'
/** The same deployment after its secrets key changed. */
const rotated = { ...env, CAIRN_SECRETS_KEY: 'a-new-secrets-key' }

describe('the provider configuration', () => {
  it('is written only when valid, each kind once', async () => {
    const refused = writeProviders(env, [
      { kind: 'resend', apiKey: RESEND_KEY },
      { kind: 'resend', apiKey: RESEND_KEY },
    ])
    await expect(refused).rejects.toBeInstanceOf(ApiError)
    await expect(refused).rejects.toThrow(
      'Invalid request: [1].kind: resend is already in the list',
    )
    expect(await readProviders(env)).toEqual([{ kind: 'log' }])
  })

  it('counts credentials sealed under a key since changed as not set, and asks for them again', async () => {
    await writeProviders(env, [
      { kind: 'resend', apiKey: RESEND_KEY, webhookSecret: 'whsec_abcdefgh' },
    ])
    expect(await viewProviders(env)).toEqual([
      { config: { kind: 'resend' }, credentials: ['apiKey', 'webhookSecret'] },
    ])

    expect(await viewProviders(rotated)).toEqual([{ config: { kind: 'resend' }, credentials: [] }])
    await expect(readProviders(rotated)).rejects.toThrow('The resend credentials cannot be opened')
    await expect(changeProviders(rotated, [{ kind: 'resend' }])).rejects.toThrow(
      'Invalid request: [0].apiKey: required',
    )
    await changeProviders(rotated, [{ kind: 'resend', apiKey: RESEND_KEY }])
    expect(await readProviders(rotated)).toEqual([{ kind: 'resend', apiKey: RESEND_KEY }])
  })
})
