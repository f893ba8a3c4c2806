import { contactStub } from '../../durable/contact-client'
import { attributionConfig } from '../attribution/config'
import { segmentConfig } from '../segments/config'
import { predictionsConfig } from '../predictions/config'
import { Memo } from '../cache/memo'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { hashIp, importIpKey, type ClientInfo } from './enrich'
import type { MessageType } from '../../contracts/stored-event'
import type { Rejection } from './message-schema'
import { normalizeMessage, type Envelope } from './normalize'
import type { Source } from './sources'
import type { IncomingEvent } from '../../contracts/stored-event'

export interface IngestOutcome {
  accepted: number
  rejected: Rejection[]
}

/**
 * Validates, enriches and stores a list of messages: one RPC per contact, all contacts in
 * parallel. Resolves once every accepted message is committed in its ContactDO; rejects if any
 * contact could not store, so the client retries (duplicates are dropped by messageId).
 */
export async function ingestMessages(
  env: Env,
  source: Source,
  raws: unknown[],
  envelope: Envelope,
  client: ClientInfo,
  /** Length of the request body's text (UTF-16 units). */
  bodyChars: number,
  impliedType?: MessageType,
): Promise<IngestOutcome> {
  const [{ channelRules, version }, segments, predictions] = await Promise.all([
    attributionConfig(env),
    segmentConfig(env),
    predictionsConfig(env),
  ])
  const options = {
    consentMode: source.consentMode,
    gpc: client.gpc ?? false,
    attributionVersion: version,
    segmentsVersion: segments.version,
    predictionsVersion: predictions.version,
  }
  const ipKey = ipKeyFor(env)
  // Within a request, one HMAC per address however many of its messages ask at once.
  const hashes = new Map<string, Promise<string>>()
  const facts = {
    sourceId: source.id,
    receivedAt: new Date(),
    client,
    bodyChars,
    channelRules,
    hashIp: (ip: string) => {
      let hash = hashes.get(ip)
      if (!hash) {
        hash = ipKey.then((key) => hashWith(key, ip))
        hashes.set(ip, hash)
      }
      return hash
    },
  }
  const rejected: Rejection[] = []
  const byContact = new Map<string, IncomingEvent[]>()
  const normalized = await Promise.all(
    raws.map((raw) => normalizeMessage(raw, envelope, facts, impliedType)),
  )
  normalized.forEach((result, index) => {
    if (!result.ok) {
      rejected.push({ index, ...result.rejection })
      return
    }
    const list = byContact.get(result.key)
    if (list) list.push(result.event)
    else byContact.set(result.key, [result.event])
  })
  try {
    await Promise.all(
      [...byContact].map(([key, events]) => contactStub(env, key).ingest(key, events, options)),
    )
  } catch (error) {
    console.error('contact storage failed', error)
    throw new ApiError(503, 'storage_unavailable', 'Events could not be stored; retry', undefined, {
      'Retry-After': '1',
    })
  }
  return { accepted: raws.length - rejected.length, rejected }
}

/**
 * The imported key and the hashes made with it, kept once made (requests never share a pending
 * promise): a returning visitor's address is hashed once per isolate, not once per request.
 */
interface IpKey {
  salt: string
  key: CryptoKey
  hashes: Memo<string>
}
let ipKey: IpKey | undefined

export async function hashClientIp(env: Env, ip: string): Promise<string> {
  return hashWith(await ipKeyFor(env), ip)
}

async function ipKeyFor(env: Env): Promise<IpKey> {
  const salt = env.CAIRN_IP_SALT || env.CAIRN_ADMIN_KEY
  if (ipKey?.salt === salt) return ipKey
  ipKey = { salt, key: await importIpKey(salt), hashes: new Memo() }
  return ipKey
}

function hashWith({ key, hashes }: IpKey, ip: string): Promise<string> {
  return hashes.get(ip, () => hashIp(ip, key))
}
