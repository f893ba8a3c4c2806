import type { Env } from '../edge/env'
import type { ContactDO } from './contact-do'
import { releasing } from './rpc'

/**
 * What one ContactDO calls on another while linking an anonymous contact to a user: the
 * hand-over protocol. These are steps of a merge, not use cases; outside durable/ only tests
 * call them, so the public `ContactClient` (contact-client.ts) leaves them out.
 */
export type ContactPeer = Pick<
  ContactDO,
  'mergeConsent' | 'handOver' | 'cancelHandOver' | 'completeHandOver'
>

/** The ContactDO of `key` as a merge peer; its calls resolve to plain data (see rpc.ts). */
export function peerStub(env: Pick<Env, 'CONTACTS'>, key: string): ContactPeer {
  return releasing(env.CONTACTS.get(env.CONTACTS.idFromName(key))) as unknown as ContactPeer
}
