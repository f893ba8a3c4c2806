import { asc, desc, eq, sql, type SQL } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import type { TemplateKind } from '../../contracts/messaging'
import { randomToken } from '../access/secrets'
import { decodeCursor, olderThan, pageOf } from '../db/keyset'
import { prepare } from '../db/raw'
import { settings, templateSnippets, templates } from '../db/schema'
import { ApiError } from '../errors'
import { checkSnippet, checkTemplate, TemplateError, type EmailTemplate } from './render'
import { slugOf } from './slug'
import { subscriptionGroupExists } from './subscription-groups'

/**
 * Email templates and the snippets they name (layouts and partials), in D1. Every part is
 * parsed when saved, so a template that saved renders unless its data makes it fail; every
 * change moves a generation the send path's cache is checked against (loadTemplateForSend).
 */
export interface Template extends EmailTemplate {
  id: string
  name: string
  kind: TemplateKind
  /** Its subscription group; null: the kind's default (all marketing for marketing). */
  group: string | null
  createdAt: string
  updatedAt: string
}

export type TemplateFields = Omit<Template, 'id' | 'createdAt' | 'updatedAt'>

export interface Snippet {
  name: string
  body: string
  updatedAt: string
}

export const TEMPLATE_LIMITS = {
  templates: 1_000,
  snippets: 200,
  nameChars: 200,
  subjectChars: 1_000,
  htmlChars: 200_000,
  textChars: 100_000,
  snippetChars: 100_000,
} as const

const GENERATION_KEY = 'templates_generation'

/** The statement to batch with every change to templates or snippets. */
function generationMoves(): SQL {
  return sql`INSERT INTO ${settings} (key, value, updated_at)
    VALUES (${GENERATION_KEY}, 1, ${new Date().toISOString()})
    ON CONFLICT (key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at`
}

/** Runs `change` and moves the generation in one transaction; the change's row count. */
async function changed(db: D1Database, change: SQL): Promise<number> {
  const [result] = await db.batch([prepare(db, change), prepare(db, generationMoves())])
  return result!.meta.changes
}

const columns = {
  id: templates.id,
  name: templates.name,
  subject: templates.subject,
  html: templates.html,
  text: templates.text,
  kind: templates.kind,
  group: templates.groupId,
  layout: templates.layout,
  createdAt: templates.createdAt,
  updatedAt: templates.updatedAt,
}

function templateOf(row: Omit<Template, 'kind'> & { kind: string }): Template {
  return { ...row, kind: row.kind as TemplateKind }
}

export async function listTemplates(
  db: D1Database,
  page: { limit: number; cursor?: string },
): Promise<{ items: Template[]; cursor: string | null }> {
  const after = decodeCursor(page.cursor, ['string', 'string'])
  const rows = await drizzle(db)
    .select(columns)
    .from(templates)
    .where(after ? olderThan([templates.createdAt, templates.id], after) : undefined)
    .orderBy(desc(templates.createdAt), desc(templates.id))
    .limit(page.limit + 1)
  return pageOf(rows, page.limit, templateOf, (row) => [row.createdAt, row.id])
}

export async function findTemplate(db: D1Database, id: string): Promise<Template | null> {
  const [row] = await drizzle(db).select(columns).from(templates).where(eq(templates.id, id))
  return row ? templateOf(row) : null
}

/**
 * A new template, its id the slug of its name (a generated one when nothing of the name is
 * left); 409 `template_exists` when that id is taken.
 */
export async function createTemplate(db: D1Database, fields: TemplateFields): Promise<Template> {
  await checkTemplateFields(db, fields)
  const now = new Date().toISOString()
  const template: Template = {
    id: slugOf(fields.name) || `tpl_${randomToken(12).toLowerCase()}`,
    ...fields,
    createdAt: now,
    updatedAt: now,
  }
  const t = template
  // One statement counts and inserts, so concurrent requests cannot pass the limit together.
  const inserted = await changed(
    db,
    sql`INSERT INTO ${templates}
      (id, name, subject, html, text, kind, group_id, layout, created_at, updated_at)
      SELECT ${t.id}, ${t.name}, ${t.subject}, ${t.html}, ${t.text}, ${t.kind}, ${t.group},
        ${t.layout}, ${t.createdAt}, ${t.updatedAt}
      WHERE (SELECT COUNT(*) FROM ${templates}) < ${TEMPLATE_LIMITS.templates}
      ON CONFLICT (id) DO NOTHING`,
  )
  if (inserted === 0) {
    if (await findTemplate(db, t.id)) {
      throw new ApiError(409, 'template_exists', `There is already a template ${t.id}`, {
        id: t.id,
      })
    }
    throw new ApiError(
      409,
      'limit_reached',
      `There are already ${TEMPLATE_LIMITS.templates} templates, the limit`,
    )
  }
  return template
}

/** Changes some fields of a template (its id stays); null when there is none. */
export async function updateTemplate(
  db: D1Database,
  id: string,
  changes: Partial<TemplateFields>,
): Promise<Template | null> {
  const before = await findTemplate(db, id)
  if (!before) return null
  const after: Template = { ...before, ...changes, updatedAt: new Date().toISOString() }
  await checkTemplateFields(db, after)
  const updated = await changed(
    db,
    sql`UPDATE ${templates} SET name = ${after.name}, subject = ${after.subject},
      html = ${after.html}, text = ${after.text}, kind = ${after.kind}, group_id = ${after.group},
      layout = ${after.layout}, updated_at = ${after.updatedAt}
      WHERE id = ${id}`,
  )
  return updated === 0 ? null : after
}

export async function deleteTemplate(db: D1Database, id: string): Promise<Template | null> {
  const template = await findTemplate(db, id)
  if (!template) return null
  const deleted = await changed(db, sql`DELETE FROM ${templates} WHERE id = ${id}`)
  return deleted === 0 ? null : template
}

/**
 * A template saves only when its layout and group exist and every part parses with the
 * snippets as they are (400 `unknown_snippet`, `unknown_group`, `template_invalid`).
 */
async function checkTemplateFields(db: D1Database, fields: TemplateFields) {
  const snippets = await readSnippets(db)
  if (fields.layout !== null && !Object.hasOwn(snippets, fields.layout)) {
    throw new ApiError(400, 'unknown_snippet', `No snippet ${fields.layout} to use as layout`, {
      layout: fields.layout,
    })
  }
  if (fields.group !== null && !(await subscriptionGroupExists(db, fields.group))) {
    throw new ApiError(400, 'unknown_group', `No subscription group ${fields.group}`, {
      group: fields.group,
    })
  }
  try {
    checkTemplate(fields, snippets)
  } catch (error) {
    throw invalidTemplate(error)
  }
}

/** A TemplateError as the API's 400 `template_invalid`; anything else as it is. */
export function invalidTemplate(error: unknown): unknown {
  if (!(error instanceof TemplateError)) return error
  const { part, line, column, snippet } = error
  return new ApiError(400, 'template_invalid', error.message, {
    part,
    line,
    column,
    ...(snippet !== undefined ? { snippet } : {}),
  })
}

/** Every snippet by name. */
export async function readSnippets(db: D1Database): Promise<Record<string, string>> {
  const rows = await drizzle(db)
    .select({ name: templateSnippets.name, body: templateSnippets.body })
    .from(templateSnippets)
  return Object.fromEntries(rows.map((row) => [row.name, row.body]))
}

export async function listSnippets(db: D1Database): Promise<Snippet[]> {
  return drizzle(db).select().from(templateSnippets).orderBy(asc(templateSnippets.name))
}

/**
 * Creates or replaces a snippet once it parses, names only snippets that exist and leads back
 * to none of them (400 `template_invalid` with part `snippet`).
 */
export async function putSnippet(db: D1Database, name: string, body: string): Promise<Snippet> {
  try {
    checkSnippet(name, body, await readSnippets(db))
  } catch (error) {
    throw invalidTemplate(error)
  }
  const snippet = { name, body, updatedAt: new Date().toISOString() }
  const stored = await changed(
    db,
    sql`INSERT INTO ${templateSnippets} (name, body, updated_at)
      SELECT ${name}, ${body}, ${snippet.updatedAt}
      WHERE (SELECT COUNT(*) FROM ${templateSnippets}) < ${TEMPLATE_LIMITS.snippets}
        OR EXISTS (SELECT 1 FROM ${templateSnippets} WHERE name = ${name})
      ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
  )
  if (stored === 0) {
    throw new ApiError(
      409,
      'limit_reached',
      `There are already ${TEMPLATE_LIMITS.snippets} snippets, the limit`,
    )
  }
  return snippet
}

/**
 * Deletes a snippet nothing names: 409 `snippet_in_use` naming the templates (as layout or
 * in a tag) and snippets that do; false when there is no such snippet.
 */
export async function deleteSnippet(db: D1Database, name: string): Promise<boolean> {
  const snippets = await readSnippets(db)
  if (!Object.hasOwn(snippets, name)) return false
  const usedBy = await usersOf(db, name, snippets)
  if (usedBy.templates.length > 0 || usedBy.snippets.length > 0) {
    const names = [
      ...usedBy.templates.map((id) => `template ${id}`),
      ...usedBy.snippets.map((other) => `snippet ${other}`),
    ]
    throw new ApiError(
      409,
      'snippet_in_use',
      `Snippet ${name} is used by ${names.join(', ')}; change those first`,
      usedBy,
    )
  }
  // A template saved with it as layout since the check above keeps it.
  const deleted = await changed(
    db,
    sql`DELETE FROM ${templateSnippets} WHERE name = ${name}
      AND NOT EXISTS (SELECT 1 FROM ${templates} WHERE layout = ${name})`,
  )
  // Gone meanwhile, or now a layout: asked again, the answer says which.
  return deleted === 1 || deleteSnippet(db, name)
}

async function usersOf(db: D1Database, name: string, snippets: Record<string, string>) {
  const all = await drizzle(db).select(columns).from(templates).orderBy(asc(templates.id))
  const names = (check: () => Set<string>) => {
    try {
      return check().has(name)
    } catch {
      // One that no longer parses names nothing; it fails to save until fixed.
      return false
    }
  }
  return {
    templates: all
      .filter((row) => row.layout === name || names(() => checkTemplate(row, snippets)))
      .map((row) => row.id),
    snippets: Object.entries(snippets)
      .filter(([other, body]) => other !== name && names(() => checkSnippet(other, body, snippets)))
      .map(([other]) => other),
  }
}

/**
 * The send path's read of a template and the snippets it may name, once per message. Kept per
 * isolate with the generation it was read at; each call reads the generation (one small row),
 * and any change to a template or a snippet since, made in the same transaction as the change,
 * means a fresh read: an edited template is never served from here.
 */
let cache:
  | {
      generation: number
      snippets: Record<string, string>
      templates: Map<string, Template | null>
    }
  | undefined

/** Templates kept per generation; past it the cache starts over. */
const CACHED_TEMPLATES = 200

export async function loadTemplateForSend(
  db: D1Database,
  id: string,
): Promise<{ template: Template; snippets: Record<string, string> } | null> {
  const generation = await readGeneration(db)
  const kept = cache?.generation === generation ? cache.templates.get(id) : undefined
  if (kept !== undefined) return kept && { template: kept, snippets: cache!.snippets }

  const orm = drizzle(db)
  const [generations, rows, snippetRows] = await orm.batch([
    orm.select({ value: settings.value }).from(settings).where(eq(settings.key, GENERATION_KEY)),
    orm.select(columns).from(templates).where(eq(templates.id, id)),
    orm.select({ name: templateSnippets.name, body: templateSnippets.body }).from(templateSnippets),
  ])
  const read = Number(generations[0]?.value ?? 0)
  const template = rows[0] ? templateOf(rows[0]) : null
  const snippets = Object.fromEntries(snippetRows.map((row) => [row.name, row.body]))
  // Generations only grow: a read that lost a race with a newer one is answered, not kept.
  const full = cache?.generation === read && cache.templates.size >= CACHED_TEMPLATES
  if (!cache || read > cache.generation || full) {
    cache = { generation: read, snippets, templates: new Map() }
  }
  if (cache.generation === read) cache.templates.set(id, template)
  return template && { template, snippets }
}

async function readGeneration(db: D1Database): Promise<number> {
  const [row] = await drizzle(db)
    .select({ value: settings.value })
    .from(settings)
    .where(eq(settings.key, GENERATION_KEY))
  return Number(row?.value ?? 0)
}
