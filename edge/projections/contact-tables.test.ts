import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'
import { applyMessages } from '../queue/consumer'
import { keyHash } from '../privacy/identifiers'
import { CONTACT_TABLES } from './contact-tables'

/**
 * Column names that hold a contact key or a person's identifier, wherever they appear. A new
 * table with such a column must be in CONTACT_TABLES (or be named below with the reason it is
 * not), so merge, erasure and retention cannot miss it.
 */
const PERSON_COLUMN =
  /^(contact_key|key|user_id|anonymous_id|anonymous_ids|email|from_key|into_key|merged_into|value|body|identifier|to_address)$/

/** Tables with such a column that hold no identifier in clear, and why. */
const NOT_PERSONAL: Record<string, string> = {
  settings: 'deployment settings: key is a setting name, value its JSON',
  erasure_requests: 'the identifier is sealed (AES-GCM) until completion, then dropped',
  d1_migrations: "wrangler's own",
  template_snippets: 'layouts and partials: a name and its Liquid text, written by staff',
}

async function d1Columns(): Promise<Map<string, string[]>> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' AND name NOT LIKE '\\_%' ESCAPE '\\'",
  ).all<{ name: string }>()
  const columns = new Map<string, string[]>()
  for (const { name } of tables.results) {
    const info = await env.DB.prepare(`PRAGMA table_info("${name}")`).all<{
      name: string
      type: string
    }>()
    // Identifiers are text; a numeric `value` (a credit, a conversion's worth) is not one.
    columns.set(
      name,
      info.results.filter((c) => c.type.toLowerCase() === 'text').map((c) => c.name),
    )
  }
  return columns
}

describe('the registry of contact-keyed D1 tables', () => {
  it('names every table of the schema that holds a contact key or identifier', async () => {
    const schema = await d1Columns()
    const registered = new Map(CONTACT_TABLES.map((t) => [t.table, t]))
    for (const [table, columns] of schema) {
      const personal = columns.filter((c) => PERSON_COLUMN.test(c))
      if (personal.length === 0 || NOT_PERSONAL[table]) continue
      expect(registered.has(table), `${table} (${personal.join(', ')}) is not registered`).toBe(
        true,
      )
      for (const column of personal) {
        expect(registered.get(table)!.columns, `${table}.${column}`).toContain(column)
      }
    }
    for (const entry of CONTACT_TABLES) {
      for (const column of entry.columns) expect(schema.get(entry.table)).toContain(column)
    }
  })

  it('keeps one consent row per person after a merge, whatever the order of its messages', async () => {
    const { writeKey } = await createSource({ name: 'Consent merge' })
    const anon = uid('consent-anon')
    const user = uid('consent-user')
    await send('/v1/consent', writeKey, {
      anonymousId: anon,
      purposes: { analytics: true, marketing: true },
    })
    await send('/v1/page', writeKey, { anonymousId: anon, name: 'Home' })
    await eventually(() =>
      d1Count('SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key = ?', `anon:${anon}`),
    )
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon })
    await send('/v1/consent', writeKey, { userId: user, purposes: { marketing: false } })
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM merges WHERE from_key = ?', `anon:${anon}`)) ===
          1 &&
        (await d1Count(
          'SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key = ? AND marketing = 0',
          user,
        )) === 1,
    )
    const rows = await env.DB.prepare(
      'SELECT contact_key, analytics, marketing FROM contact_consent WHERE contact_key IN (?, ?)',
    )
      .bind(user, `anon:${anon}`)
      .all()
    expect(rows.results).toEqual([{ contact_key: user, analytics: 1, marketing: 0 }])

    // Messages of the anonymous contact still queued when the merge lands move with it.
    const late = new Date(Date.now() + 1_000).toISOString()
    const other = uid('late-anon')
    const into = uid('late-user')
    await applyMessages(env, [
      { kind: 'merge', from: `anon:${other}`, into, at: late },
      {
        kind: 'consent',
        contactKey: `anon:${other}`,
        at: late,
        state: { analytics: true, marketing: false, personalization: null, advertising: null },
      },
    ])
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key IN (?, ?)',
        `anon:${other}`,
        into,
      ),
    ).toBe(1)
  })

  it('applies no merge that arrives after either contact was erased', async () => {
    const from = `anon:${uid('erased-anon')}`
    const into = uid('erased-user')
    await env.DB.prepare(
      "INSERT INTO suppressions (hash, kind, erasure_id, created_at) VALUES (?, 'userId', 'er_test', ?)",
    )
      .bind(await keyHash(env, into), new Date().toISOString())
      .run()
    await applyMessages(env, [{ kind: 'merge', from, into, at: new Date().toISOString() }])
    expect(await d1Count('SELECT COUNT(*) AS n FROM merges WHERE from_key = ?', from)).toBe(0)
    // Not even a message naming the erased contact only as the one absorbed.
    await env.DB.prepare(
      "INSERT INTO suppressions (hash, kind, erasure_id, created_at) VALUES (?, 'anonymousId', 'er_test', ?)",
    )
      .bind(await keyHash(env, from), new Date().toISOString())
      .run()
    const someone = uid('someone')
    await applyMessages(env, [{ kind: 'merge', from, into: someone, at: new Date().toISOString() }])
    expect(await d1Count('SELECT COUNT(*) AS n FROM merges WHERE into_key = ?', someone)).toBe(0)
  })

  it('counts one person once in the consent totals after they withdraw', async () => {
    const { writeKey } = await createSource({ name: 'Totals' })
    const before = (await (await api('/api/consent/totals')).json()) as { contacts: number }
    const anon = uid('totals-anon')
    const user = uid('totals-user')
    await send('/v1/consent', writeKey, { anonymousId: anon, purposes: { marketing: true } })
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon })
    await send('/v1/consent', writeKey, { userId: user, purposes: { marketing: false } })
    const totals = await eventually(async () => {
      const body = (await (await api('/api/consent/totals')).json()) as {
        contacts: number
        purposes: { marketing: { granted: number; denied: number } }
      }
      const merged = await d1Count(
        'SELECT COUNT(*) AS n FROM merges WHERE from_key = ?',
        `anon:${anon}`,
      )
      return merged && body.contacts === before.contacts + 1 ? body : undefined
    })
    expect(totals.contacts).toBe(before.contacts + 1)
  })
})
