import { resolveContact } from '../../durable/contact-client'
import type { Env } from '../env'
import { ApiError } from '../errors'

/**
 * As `resolveContact` (durable/contact-client.ts), for a request that names the contact: an
 * unknown one is a 404. The HTTP error belongs here, at the edge; the client only answers null.
 */
export async function existingContact(env: Pick<Env, 'CONTACTS'>, id: string): Promise<string> {
  const key = await resolveContact(env, id)
  if (!key) throw new ApiError(404, 'not_found', `No contact ${id}`)
  return key
}
