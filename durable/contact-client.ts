import type { Env } from '../edge/env'
import { ApiError } from '../edge/errors'
import type { ContactDO } from './contact-do'
import { releasing } from './rpc'

/** The ContactDO's RPC surface with its declared types (RPC stubs widen `unknown` fields). */
export type ContactClient = Omit<ContactDO, 'alarm'>

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

/** As `resolveContact`, for a request that names the contact: an unknown one is a 404. */
export async function existingContact(env: Pick<Env, 'CONTACTS'>, id: string): Promise<string> {
  const key = await resolveContact(env, id)
  if (!key) throw new ApiError(404, 'not_found', `No contact ${id}`)
  return key
}
