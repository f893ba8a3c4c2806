import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { and, eq, inArray, lt } from 'drizzle-orm'
import { contactStub } from '../../durable/contact-client'
import type { ErasureReport } from '../../durable/contact-rpc'
import { emailDirectory } from '../../durable/identity-directory'
import { randomToken } from '../access/secrets'
import { appendAudit } from '../audit/log'
import { ERASURE_COMPLETED } from '../audit/trail'
import { prepare } from '../db/raw'
import { erasureRequests, type ErasureReceipt } from '../db/schema'
import { anonymousKey } from '../../domain/identity'
import type { Env } from '../env'
import { erasureStatements } from '../projections/contact-tables'
import { queueText } from '../../contracts/queue-messages'
import {
  identifierHash,
  identifierOfKey,
  normalizeIdentifier,
  openIdentifier,
  sealIdentifier,
  type Identifier,
} from './identifiers'
import { exportPrefix } from './export'

/** Linked contacts are followed this many hops at most (a merge chain is one or two). */
const MAX_CONTACTS = 1_000

/** An erasure not completed this long after it was last sent is sent again by the cron. */
const STALLED_AFTER_MS = 15 * 60_000

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
  const now = new Date().toISOString()
  await drizzle(env.DB)
    .insert(erasureRequests)
    .values({
      id,
      identifierKind: kind,
      identifier: await sealIdentifier(env, value),
      status: 'pending',
      requestedBy,
      reason,
      requestedAt: now,
      lastSentAt: now,
    })
  await sendErasure(env, id)
  return { id, status: 'pending' }
}

function sendErasure(env: Env, requestId: string) {
  return env.EVENTS.send(queueText({ kind: 'erase', requestId }), { contentType: 'text' })
}

/**
 * An erasure is never given up: one the queue dead-lettered after its retries, or one stuck
 * running when its worker died, is sent again by the cron until it completes. Its identifier
 * stays sealed meanwhile, and is dropped when it completes.
 */
export async function resendStalledErasures(env: Env, now: Date): Promise<number> {
  const stalled = await drizzle(env.DB)
    .update(erasureRequests)
    .set({ lastSentAt: now.toISOString() })
    .where(
      and(
        inArray(erasureRequests.status, ['pending', 'running', 'failed']),
        lt(
          sql`coalesce(${erasureRequests.lastSentAt}, ${erasureRequests.requestedAt})`,
          new Date(now.getTime() - STALLED_AFTER_MS).toISOString(),
        ),
      ),
    )
    .returning({ id: erasureRequests.id })
  for (const { id } of stalled) await sendErasure(env, id)
  return stalled.length
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
    const identifier = {
      kind: request.identifierKind,
      value: await openIdentifier(env, request.identifier),
    }
    const receipt = await erase(env, identifier, request)
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
    // The error's own text could quote the identifier: it goes to the log, not to D1.
    console.error('erasure failed; it is retried', requestId, error)
    await db
      .update(erasureRequests)
      .set({
        status: 'failed',
        error: `${error instanceof Error ? error.name : 'Error'}; retried until it completes`,
      })
      .where(eq(erasureRequests.id, requestId))
    throw error
  }
}

async function erase(
  env: Env,
  identifier: Identifier,
  request: { id: string; requestedBy: string },
): Promise<ErasureReceipt> {
  const stores: ErasureReceipt['stores'] = []
  const at = () => new Date().toISOString()

  // 1. Every ContactDO of the person, following identity links both ways.
  const queue = await initialKeys(env, identifier)
  const seen = new Set<string>()
  const identifiers = new Map<string, Identifier>()
  const removed: Record<string, number> = {}
  let dataKeys = 0
  const add = (id: Identifier) => {
    const normal = normalizeIdentifier(id)
    identifiers.set(`${normal.kind}:${normal.value}`, normal)
  }
  add(identifier)
  let held = 0
  while (queue.length > 0 && seen.size < MAX_CONTACTS) {
    const key = queue.shift()!
    if (seen.has(key)) continue
    seen.add(key)
    const report: ErasureReport = await contactStub(env, key).erase()
    if (report.key || report.mergedInto) held++
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
  const all = [...identifiers.values()]
  const emails = all.filter((id) => id.kind === 'email').map((id) => id.value)
  let directoryEntries = 0
  for (const email of emails) directoryEntries += await (await emailDirectory(env, email)).forget()
  stores.push({
    store: 'Identity directory',
    action: "the person's email addresses no longer name any contact",
    removed: { entries: directoryEntries },
    at: at(),
  })

  // 2. Suppression first, so a consumer batch racing this erasure cannot re-insert rows.
  const hashes = await Promise.all(all.map((id) => identifierHash(env, id)))
  const objectIds = new Map(keys.map((key) => [key, env.CONTACTS.idFromName(key).toString()]))
  const createdAt = at()
  await env.DB.batch(
    all.map((id, i) =>
      prepare(
        env.DB,
        sql`INSERT OR IGNORE INTO suppressions (hash, kind, contact_object_id, erasure_id, created_at)
          VALUES (${hashes[i]!}, ${id.kind}, ${objectIds.get(id.kind === 'anonymousId' ? anonymousKey(id.value) : id.value) ?? null}, ${request.id}, ${createdAt})`,
      ),
    ),
  )
  stores.push({
    store: 'Suppression list',
    action: 'keyed hashes of the identifiers added; data arriving for them later is dropped',
    removed: { identifiers: all.length },
    at: at(),
  })

  // 3. D1 rows under any of the keys or identifiers, table by table (projections/contact-tables.ts).
  const values = (kind?: Identifier['kind']) =>
    JSON.stringify(all.filter((id) => !kind || id.kind === kind).map((id) => id.value))
  const statements = erasureStatements({
    keys: JSON.stringify(keys),
    userIds: values('userId'),
    anonymousIds: values('anonymousId'),
    emails: values('email'),
    values: JSON.stringify([...keys, ...all.map((id) => id.value)]),
  })
  const results = await env.DB.batch(statements.map(([, statement]) => prepare(env.DB, statement)))
  stores.push({
    store: 'D1',
    action:
      'rows deleted; conversions keep their channel path and credits without the link to the person; identifier-free daily rollups remain',
    removed: Object.fromEntries(
      statements.map(([table], i) => [table, results[i]?.meta.changes ?? 0]),
    ),
    at: at(),
  })

  // 4. DSAR exports kept in R2.
  let objects = 0
  for (const key of keys) {
    const prefix = await exportPrefix(env, key)
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

  // 5. The audit trail: the completion entry, indexed under every identifier hash found, joins
  // the person's trail under all of them from now on (audit/trail.ts aboutAnyOf).
  const matched = held > 0
  const receipt: ErasureReceipt = {
    matched,
    summary: matched
      ? `Erased ${held} contact${held === 1 ? '' : 's'} holding ${all.length} identifier${all.length === 1 ? '' : 's'} from every store.`
      : `No contact matched this ${identifier.kind}: nothing was held about it. It is on the suppression list, so data arriving for it later is dropped.`,
    contacts: held,
    identifiers: all.length,
    stores,
  }
  await appendAudit(env, [
    {
      actorKeyId: request.requestedBy,
      actorRole: 'system',
      action: ERASURE_COMPLETED,
      subjectHash: hashes[0]!,
      alsoAbout: hashes,
      status: 200,
      detail: { erasureId: request.id, matched, contacts: held, subjects: hashes },
    },
  ])
  return receipt
}

/** The contacts an identifier names directly; links are followed from there. */
async function initialKeys(env: Env, identifier: Identifier): Promise<string[]> {
  const { kind, value } = normalizeIdentifier(identifier)
  if (kind === 'userId') return [value]
  if (kind === 'anonymousId') return [anonymousKey(value)]
  // The directory knows an address from the moment its identify was acknowledged; D1 only once
  // the queue has projected it, and still holds addresses known before the directory was.
  const linked = await (await emailDirectory(env, value)).contacts()
  const rows = await env.DB.prepare(
    `SELECT contact_key AS key FROM identities WHERE kind = 'email' AND value = ?
     UNION SELECT key FROM contacts WHERE email = ?`,
  )
    .bind(value, value)
    .all<{ key: string }>()
  return [...new Set([...linked, ...rows.results.map((row) => row.key)])]
}
