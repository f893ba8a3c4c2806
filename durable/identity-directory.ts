import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../edge/env'
import { identifierHash } from '../edge/privacy/identifiers'
import { releasing } from './rpc'

/**
 * One object per email address (named by its keyed hash), listing the contacts that linked it.
 * A ContactDO registers an email here before it commits the identify that links it, so an
 * erasure by email finds the person the moment their identify was acknowledged, not once the
 * queue has projected it into D1.
 */
export class IdentityDirectory extends DurableObject<Env> {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.sql = ctx.storage.sql
    this.sql.exec(
      'CREATE TABLE IF NOT EXISTS contacts (key TEXT PRIMARY KEY, linked_at INTEGER NOT NULL) WITHOUT ROWID',
    )
  }

  async register(contactKey: string): Promise<void> {
    this.sql.exec(
      'INSERT OR IGNORE INTO contacts (key, linked_at) VALUES (?, ?)',
      contactKey,
      Date.now(),
    )
  }

  async contacts(): Promise<string[]> {
    return this.sql
      .exec<{ key: string }>('SELECT key FROM contacts')
      .toArray()
      .map((row) => row.key)
  }

  /** The erasure's part: the address names nobody any more. */
  async forget(): Promise<number> {
    return this.sql.exec('DELETE FROM contacts').rowsWritten
  }
}

export type DirectoryClient = Pick<IdentityDirectory, 'register' | 'contacts' | 'forget'>

/** The directory entry of an email address. */
export async function emailDirectory(
  env: Pick<Env, 'DIRECTORY' | 'CAIRN_HASH_KEY' | 'CAIRN_ADMIN_KEY'>,
  email: string,
): Promise<DirectoryClient> {
  const name = await identifierHash(env, { kind: 'email', value: email })
  return releasing(env.DIRECTORY.get(env.DIRECTORY.idFromName(name))) as unknown as DirectoryClient
}
