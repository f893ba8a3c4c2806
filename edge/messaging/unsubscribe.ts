import type { Env } from '../env'

/**
 * Unsubscribe links: a token names the contact, the group and the message, signed so that no
 * one can unsubscribe someone else or read another group's preferences by editing it. It never
 * expires (a link in an old email must keep working) and holds no address, only the contact key.
 *
 * The token is `<payload>.<mac>`: the payload the base64url of a JSON array, the mac the
 * base64url of its HMAC-SHA256 under a key derived (HKDF) from CAIRN_HASH_KEY, else
 * CAIRN_ADMIN_KEY, for this purpose alone, so it matches no hash or signature made elsewhere.
 */
export interface UnsubscribeParts {
  contactKey: string
  groupId: string
  messageId: string
}

type SecretEnv = Pick<Env, 'CAIRN_HASH_KEY' | 'CAIRN_ADMIN_KEY'>

const PURPOSE = 'cairn unsubscribe link v1'

let signing: { secret: string; key: CryptoKey } | undefined

async function signingKey(env: SecretEnv): Promise<CryptoKey> {
  const secret = env.CAIRN_HASH_KEY || env.CAIRN_ADMIN_KEY
  if (signing?.secret === secret) return signing.key
  const encoder = new TextEncoder()
  const base = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, [
    'deriveKey',
  ])
  const key = await crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: encoder.encode(PURPOSE) },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign', 'verify'],
  )
  signing = { secret, key }
  return key
}

const BASE64URL = { alphabet: 'base64url', omitPadding: true } as const

export async function unsubscribeToken(env: SecretEnv, parts: UnsubscribeParts): Promise<string> {
  const payload = new TextEncoder()
    .encode(JSON.stringify([parts.contactKey, parts.groupId, parts.messageId]))
    .toBase64(BASE64URL)
  const mac = await crypto.subtle.sign(
    'HMAC',
    await signingKey(env),
    new TextEncoder().encode(payload),
  )
  return `${payload}.${new Uint8Array(mac).toBase64(BASE64URL)}`
}

/** The parts of a token this deployment signed; null for anything else. */
export async function readUnsubscribeToken(
  env: SecretEnv,
  token: string,
): Promise<UnsubscribeParts | null> {
  const [payload, mac, ...rest] = token.split('.')
  if (!payload || !mac || rest.length > 0) return null
  try {
    // WebCrypto's verify compares in constant time.
    const valid = await crypto.subtle.verify(
      'HMAC',
      await signingKey(env),
      Uint8Array.fromBase64(mac, { alphabet: 'base64url' }),
      new TextEncoder().encode(payload),
    )
    if (!valid) return null
    const parts: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
        Uint8Array.fromBase64(payload, { alphabet: 'base64url' }),
      ),
    )
    if (!Array.isArray(parts) || parts.length !== 3) return null
    if (!parts.every((part) => typeof part === 'string' && part.length > 0)) return null
    const [contactKey, groupId, messageId] = parts as [string, string, string]
    return { contactKey, groupId, messageId }
  } catch {
    // Not base64url, not UTF-8 or not JSON: not a token of ours.
    return null
  }
}

/** The public origin links point at. */
export function publicUrl(env: Pick<Env, 'CAIRN_PUBLIC_URL'>): string {
  return (env.CAIRN_PUBLIC_URL ?? 'http://localhost:8787').replace(/\/+$/, '')
}

/**
 * The headers of one-click unsubscribe (RFC 8058) for a marketing message. Mailbox providers
 * honour them only over HTTPS, so CAIRN_PUBLIC_URL must be https in production; local runs keep
 * the http default.
 */
export async function unsubscribeHeaders(
  env: SecretEnv & Pick<Env, 'CAIRN_PUBLIC_URL'>,
  parts: UnsubscribeParts,
): Promise<{ 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string }> {
  const token = await unsubscribeToken(env, parts)
  return {
    'List-Unsubscribe': `<${publicUrl(env)}/u/${token}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  }
}
