import { sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { eq } from 'drizzle-orm'
import { contactStub } from '../../durable/contact-client'
import type { ErasureReport } from '../../durable/contact-do'
import { randomToken } from '../access/secrets'
import { prepare } from '../db/raw'
import { erasureRequests, type ErasureReceipt } from '../db/schema'
import { anonymousKey } from '../domain/identity'
import type { Env } from '../env'
import { queueText } from '../queue/messages'
import {
  identifierHash,
  identifierOfKey,
  normalizeIdentifier,
  type Identifier,
} from './identifiers'
import { exportPrefix } from './export'

/** Linked contacts are followed this many hops at most (a merge chain is one or two). */
const MAX_CONTACTS = 1_000

/**
 * Erasure runs from the queue so that a failure part-way is retried; every step is
 * idempotent, so a retried erasure finishes what the first attempt started.
 */
export async function requestErasure(
  env: Env,
  identifier: Identifier,
  requestedBy: string,
  reason: 'request' | 'retention',
): Promise<{ id: string; status: 'pending' }> {
  const id = `er_${randomToken(16)}`
  const { kind, value } = normalizeIdentifier(identifier)
  await drizzle(env.DB).insert(erasureRequests).values({
    id,
    identifierKind: kind,
    identifier: value,
    status: 'pending',
    requestedBy,
    reason,
    requestedAt: new Date().toISOString(),
  })
  await env.EVENTS.send(queueText({ kind: 'erase', requestId: id }), { contentType: 'text' })
  return { id, status: 'pending' }
}

export async function runErasure(env: Env, requestId: string): Promise<void> {
  const db = drizzle(env.DB)
  const [request] = await db.select().from(erasureRequests).where(eq(erasureRequests.id, requestId))
  if (!request || request.status === 'completed' || !request.identifier) return
  await db
    .update(erasureRequests)
    .set({ status: 'running' })
    .where(eq(erasureRequests.id, requestId))
  try {
    const receipt = await erase(
      env,
      { kind: request.identifierKind, value: request.identifier },
      requestId,
    )
    await db
      .update(erasureRequests)
      .set({
        status: 'completed',
        identifier: null,
        receipt,
        completedAt: new Date().toISOString(),
        error: null,
      })
      .where(eq(erasureRequests.id, requestId))
  } catch (error) {
    await db
      .update(erasureRequests)
      .set({ status: 'failed', error: String(error) })
      .where(eq(erasureRequests.id, requestId))
    throw error
  }
}

async function erase(env: Env, identifier: Identifier, erasureId: string): Promise<ErasureReceipt> {
  const stores: ErasureReceipt['stores'] = []
  const at = () => new Date().toISOString()

  // 1. Every ContactDO of the person, following identity links both ways.
  const queue = await initialKeys(env, identifier)
  const seen = new Set<string>()
  const identifiers = new Map<string, Identifier>()
  const removed: Record<string, number> = {}
  let dataKeys = 0
  const add = (id: Identifier) => identifiers.set(`${id.kind}:${id.value}`, normalizeIdentifier(id))
  add(identifier)
  while (queue.length > 0 && seen.size < MAX_CONTACTS) {
    const key = queue.shift()!
    if (seen.has(key)) continue
    seen.add(key)
    const report: ErasureReport = await contactStub(env, key).erase()
    for (const [table, count] of Object.entries(report.removed))
      removed[table] = (removed[table] ?? 0) + count
    dataKeys += report.removed.data_keys ?? 0
    if (report.mergedInto) queue.push(report.mergedInto)
    for (const link of report.identities) {
      if (link.kind === 'userId') queue.push(link.value)
      if (link.kind === 'anonymousId') queue.push(anonymousKey(link.value))
      if (link.kind === 'userId' || link.kind === 'anonymousId' || link.kind === 'email') {
        add({ kind: link.kind, value: link.value })
      }
    }
  }
  const keys = [...seen]
  for (const key of keys) add(identifierOfKey(key))
  stores.push({
    store: 'ContactDO',
    action: 'storage and alarms deleted; an identifier-free tombstone drops later events',
    removed,
    at: at(),
  })
  stores.push({
    store: 'R2 archive',
    action:
      'crypto-shredded: the data keys were destroyed, archived lines can no longer be decrypted',
    removed: { dataKeys },
    at: at(),
  })

  // 2. Suppression first, so a consumer batch racing this erasure cannot re-insert rows.
  const all = [...identifiers.values()]
  const hashes = await Promise.all(all.map((id) => identifierHash(id)))
  const objectIds = new Map(keys.map((key) => [key, env.CONTACTS.idFromName(key).toString()]))
  const createdAt = at()
  await env.DB.batch(
    all.map((id, i) =>
      prepare(
        env.DB,
        sql`INSERT OR IGNORE INTO suppressions (hash, kind, contact_object_id, erasure_id, created_at)
          VALUES (${hashes[i]!}, ${id.kind}, ${objectIds.get(id.kind === 'anonymousId' ? anonymousKey(id.value) : id.value) ?? null}, ${erasureId}, ${createdAt})`,
      ),
    ),
  )
  stores.push({
    store: 'Suppression list',
    action: 'hashed identifiers added; the queue consumer drops queued messages for them',
    removed: { identifiers: all.length },
    at: at(),
  })

  // 3. D1 rows under any of the keys or identifiers.
  const keyList = JSON.stringify(keys)
  const userIds = JSON.stringify(all.filter((id) => id.kind === 'userId').map((id) => id.value))
  const anonIds = JSON.stringify(
    all.filter((id) => id.kind === 'anonymousId').map((id) => id.value),
  )
  const values = JSON.stringify(all.map((id) => id.value))
  const inList = (list: string) => sql`(SELECT value FROM json_each(${list}))`
  const statements: [string, SQL][] = [
    [
      'events',
      sql`DELETE FROM events WHERE contact_key IN ${inList(keyList)} OR user_id IN ${inList(userIds)} OR anonymous_id IN ${inList(anonIds)}`,
    ],
    [
      'contacts',
      sql`DELETE FROM contacts WHERE key IN ${inList(keyList)} OR merged_into IN ${inList(keyList)}`,
    ],
    [
      'identities',
      sql`DELETE FROM identities WHERE contact_key IN ${inList(keyList)} OR value IN ${inList(values)}`,
    ],
    ['contact_days', sql`DELETE FROM contact_days WHERE contact_key IN ${inList(keyList)}`],
    ['contact_consent', sql`DELETE FROM contact_consent WHERE contact_key IN ${inList(keyList)}`],
    [
      'merges',
      sql`DELETE FROM merges WHERE from_key IN ${inList(keyList)} OR into_key IN ${inList(keyList)}`,
    ],
    ['touches', sql`DELETE FROM touches WHERE contact_key IN ${inList(keyList)}`],
    [
      'conversions (unlinked; their credits stay, without identifiers)',
      sql`UPDATE conversions SET contact_key = NULL WHERE contact_key IN ${inList(keyList)}`,
    ],
  ]
  const results = await env.DB.batch(statements.map(([, statement]) => prepare(env.DB, statement)))
  stores.push({
    store: 'D1',
    action: 'rows deleted (identifier-free daily rollups remain)',
    removed: Object.fromEntries(
      statements.map(([table], i) => [table, results[i]?.meta.changes ?? 0]),
    ),
    at: at(),
  })

  // 4. DSAR exports kept in R2.
  let objects = 0
  for (const key of keys) {
    const prefix = await exportPrefix(key)
    for (let cursor: string | undefined; ;) {
      const listed = await env.ARCHIVE.list({ prefix, cursor })
      if (listed.objects.length > 0) await env.ARCHIVE.delete(listed.objects.map((o) => o.key))
      objects += listed.objects.length
      if (!listed.truncated) break
      cursor = listed.cursor
    }
  }
  stores.push({
    store: 'R2 exports',
    action: 'export objects deleted',
    removed: { objects },
    at: at(),
  })
  return { contacts: keys.length, identifiers: all.length, stores }
}

/** The contacts an identifier names directly; links are followed from there. */
async function initialKeys(env: Env, identifier: Identifier): Promise<string[]> {
  const { kind, value } = normalizeIdentifier(identifier)
  if (kind === 'userId') return [value]
  if (kind === 'anonymousId') return [anonymousKey(value)]
  const rows = await env.DB.prepare(
    `SELECT contact_key AS key FROM identities WHERE kind = 'email' AND value = ?
     UNION SELECT key FROM contacts WHERE email = ?`,
  )
    .bind(value, value)
    .all<{ key: string }>()
  return rows.results.map((row) => row.key)
}
