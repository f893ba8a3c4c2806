import type { Env } from '../edge/env'
import type { ContactDO } from './contact-do'
import type { ContactPeer } from './contact-peer'
import { releasing } from './rpc'

/**
 * The ContactDO's use cases with their declared types (RPC stubs widen `unknown` fields): its
 * RPC surface without the alarm and the merge steps contacts call on each other (contact-peer.ts).
 */
export type ContactClient = Omit<ContactDO, 'alarm' | keyof ContactPeer>

/**
 * The ContactDO of a canonical contact key (see domain/identity.ts); its calls resolve to
 * plain data, released at once (see rpc.ts).
 */
export function contactStub(env: Pick<Env, 'CONTACTS'>, key: string): ContactClient {
  return releasing(env.CONTACTS.get(env.CONTACTS.idFromName(key))) as unknown as ContactClient
}

/** A merge chain is one or two hops; more would be a loop. */
const MAX_FORWARDS = 3

/**
 * The key of the contact that holds `key`'s data now, following the forward pointers merged
 * anonymous contacts leave behind; null when no contact has that key.
 */
export async function resolveContact(
  env: Pick<Env, 'CONTACTS'>,
  key: string,
): Promise<string | null> {
  let current = key
  for (let hop = 0; hop <= MAX_FORWARDS; hop++) {
    const where = await contactStub(env, current).locate()
    if (where.found) return current
    if (!where.mergedInto) return null
    current = where.mergedInto
  }
  return null
}
