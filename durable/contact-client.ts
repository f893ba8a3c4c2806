import type { Env } from '../edge/env'
import type { ContactDO } from './contact-do'

/** The ContactDO's RPC surface with its declared types (RPC stubs widen `unknown` fields). */
export type ContactClient = Omit<ContactDO, 'alarm'>

/** The ContactDO of a canonical contact key (see edge/domain/identity.ts). */
export function contactStub(env: Pick<Env, 'CONTACTS'>, key: string): ContactClient {
  return env.CONTACTS.get(env.CONTACTS.idFromName(key)) as unknown as ContactClient
}
