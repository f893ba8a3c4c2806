import { describe, expect, it } from 'vitest'
import { openSecret, sealSecret } from './secret-box'

const env = {
  CAIRN_ADMIN_KEY: 'admin-key',
  CAIRN_HASH_KEY: 'hash-key',
  CAIRN_SECRETS_KEY: 'secrets-key',
}

describe('the secret box', () => {
  it('seals so that only the same key opens, with a new IV each time', async () => {
    const sealed = await sealSecret(env, '{"apiKey":"SG.secret"}')
    expect(sealed).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/)
    expect(sealed).not.toContain('SG.secret')
    expect(await sealSecret(env, '{"apiKey":"SG.secret"}')).not.toBe(sealed)
    expect(await openSecret(env, sealed)).toBe('{"apiKey":"SG.secret"}')
  })

  it('derives its key from CAIRN_SECRETS_KEY, else the hash key, else the admin key', async () => {
    const sealed = await sealSecret(env, 'x')
    expect(await openSecret({ ...env, CAIRN_SECRETS_KEY: 'another' }, sealed)).toBeNull()
    const underHashKey = await sealSecret({ ...env, CAIRN_SECRETS_KEY: undefined }, 'y')
    expect(
      await openSecret({ CAIRN_ADMIN_KEY: 'other', CAIRN_HASH_KEY: 'hash-key' }, underHashKey),
    ).toBe('y')
    const underAdminKey = await sealSecret({ CAIRN_ADMIN_KEY: 'admin-key' }, 'z')
    expect(await openSecret({ CAIRN_ADMIN_KEY: 'admin-key' }, underAdminKey)).toBe('z')
    expect(await openSecret(env, underAdminKey)).toBeNull()
  })

  it('opens nothing it did not seal', async () => {
    expect(await openSecret(env, 'SG.secret')).toBeNull()
    expect(await openSecret(env, 'v1:bm90:aXQ=')).toBeNull()
  })
})
