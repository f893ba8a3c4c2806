import { openText, sealText } from '../../durable/data-key'
import { Memo } from '../cache/memo'
import { hex } from '../../domain/hex'
import { ANON_PREFIX, isAnonymousKey } from '../../domain/identity'
import type { Env } from '../env'

export type IdentifierKind = 'userId' | 'anonymousId' | 'email'

export interface Identifier {
  kind: IdentifierKind
  value: string
}

/** Emails compare case-insensitively; ids exactly. */
export function normalizeIdentifier(identifier: Identifier): Identifier {
  return identifier.kind === 'email'
    ? { kind: 'email', value: identifier.value.trim().toLowerCase() }
    : identifier
}

/** The secret identifier hashes are keyed with (see hashKeyOf). */
export type HashKeyEnv = Pick<Env, 'CAIRN_HASH_KEY' | 'CAIRN_ADMIN_KEY'>

interface HashKey {
  secret: string
  key: CryptoKey
  hashes: Memo<string>
}
let hashKey: HashKey | undefined

/**
 * HMAC-SHA256 under the deployment's CAIRN_HASH_KEY, never a plain digest: emails and numeric
 * ids are few enough to guess, so a plain SHA-256 on the suppression list or in the audit log
 * would name the person to anyone who can read it. Matching needs the same key for ever, so the
 * key is its own secret (CAIRN_ADMIN_KEY is only the fallback of a deployment that set none).
 */
async function hashKeyOf(env: HashKeyEnv): Promise<HashKey> {
  const secret = env.CAIRN_HASH_KEY || env.CAIRN_ADMIN_KEY
  if (hashKey?.secret === secret) return hashKey
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(`cairn-identifier:${secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  hashKey = { secret, key, hashes: new Memo() }
  return hashKey
}

/**
 * The one hash that names a person outside their contact object: on the suppression list, in
 * the audit log and in R2 export paths. The same identifier gives the same hash everywhere, so
 * a compliance officer holding any of a person's identifiers finds all of it.
 */
export async function identifierHash(env: HashKeyEnv, identifier: Identifier): Promise<string> {
  const { kind, value } = normalizeIdentifier(identifier)
  const text = `${kind}:${value}`
  const { key, hashes } = await hashKeyOf(env)
  return hashes.get(text, async () =>
    hex(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(text))),
  )
}

/** Marks an identifier sealed at rest (see sealIdentifier); anything else is an older clear one. */
const SEALED = 'sealed:'

let sealing: { secret: string; key: CryptoKey } | undefined

/** Kept once made; requests never share a pending promise (see cache/memo.ts). */
async function sealingKey(env: HashKeyEnv): Promise<CryptoKey> {
  const secret = env.CAIRN_HASH_KEY || env.CAIRN_ADMIN_KEY
  if (sealing?.secret === secret) return sealing.key
  const raw = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(`cairn-identifier-seal:${secret}`),
  )
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
  sealing = { secret, key }
  return key
}

/**
 * An identifier an erasure request must keep until it has run (it may fail and be retried) is
 * kept sealed with AES-GCM under the deployment's secret, never in clear: a request that fails
 * for good must not leave the very person it was asked to forget readable in D1.
 */
export async function sealIdentifier(env: HashKeyEnv, value: string): Promise<string> {
  const { iv, sealed } = await sealText(await sealingKey(env), value)
  return `${SEALED}${iv}:${sealed}`
}

export async function openIdentifier(env: HashKeyEnv, stored: string): Promise<string> {
  if (!stored.startsWith(SEALED)) return stored
  const [iv = '', sealed = ''] = stored.slice(SEALED.length).split(':')
  return openText(await sealingKey(env), { iv, sealed })
}

/** The identifier a canonical contact key stands for. */
export function identifierOfKey(key: string): Identifier {
  return isAnonymousKey(key)
    ? { kind: 'anonymousId', value: key.slice(ANON_PREFIX.length) }
    : { kind: 'userId', value: key }
}

/** The hash of the identifier a contact key stands for. */
export function keyHash(env: HashKeyEnv, contactKey: string): Promise<string> {
  return identifierHash(env, identifierOfKey(contactKey))
}

/**
 * What a person typed into a search box may be any of their identifiers: a contact key
 * (`anon:` names an anonymous id), or an email. Every reading is returned.
 */
export function identifiersOf(text: string): Identifier[] {
  const readings: Identifier[] = [identifierOfKey(text)]
  if (text.includes('@')) readings.push({ kind: 'email', value: text })
  return readings
}
