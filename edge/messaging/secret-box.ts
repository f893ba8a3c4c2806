import { openText, sealText } from '../../durable/data-key'
import type { Env } from '../env'

/** The deployment secret the box key is derived from (see boxKey). */
export type SecretBoxEnv = Pick<Env, 'CAIRN_SECRETS_KEY' | 'CAIRN_HASH_KEY' | 'CAIRN_ADMIN_KEY'>

/** Marks the format, so a later one can be told apart: `v1:<iv>:<ciphertext>`, base64. */
const VERSION = 'v1:'

const encoder = new TextEncoder()
let derived: { secret: string; key: CryptoKey } | undefined

/**
 * AES-256-GCM under a key derived by HKDF from CAIRN_SECRETS_KEY, else the hash key, else the
 * admin key. Derived rather than the secret itself, and with its own `info`, so the secret may
 * serve other purposes without one key being used for two. Changing the secret leaves what was
 * sealed before unreadable (openSecret answers null): credentials are entered again.
 */
async function boxKey(env: SecretBoxEnv): Promise<CryptoKey> {
  const secret = env.CAIRN_SECRETS_KEY || env.CAIRN_HASH_KEY || env.CAIRN_ADMIN_KEY
  if (derived?.secret === secret) return derived.key
  const material = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
    'deriveKey',
  ])
  const key = await crypto.subtle.deriveKey(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: encoder.encode('cairn-secret-box'),
      info: encoder.encode('messaging provider credentials'),
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
  derived = { secret, key }
  return key
}

export async function sealSecret(env: SecretBoxEnv, plaintext: string): Promise<string> {
  const { iv, sealed } = await sealText(await boxKey(env), plaintext)
  return `${VERSION}${iv}:${sealed}`
}

/** The plaintext, or null when it was sealed under another key or is not a sealed value. */
export async function openSecret(env: SecretBoxEnv, stored: string): Promise<string | null> {
  if (!stored.startsWith(VERSION)) return null
  const [iv = '', sealed = ''] = stored.slice(VERSION.length).split(':')
  try {
    return await openText(await boxKey(env), { iv, sealed })
  } catch {
    return null
  }
}
