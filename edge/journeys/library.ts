import type { JourneyDefinition } from '../../domain/journeys/definition'
import { JOURNEY_TEMPLATES } from '../../domain/journeys/templates'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { createTemplate } from '../messaging/templates'
import { createSegment } from '../segments/save'
import { segmentExists } from '../segments/store'

/**
 * The journey template library made real: a template's definition names email templates and
 * segments by id, so they are created before the definition is saved, each only when missing.
 * A marketer who already edited "welcome" keeps their copy; two requests installing the same
 * template at once both succeed, whichever created each part.
 */

export type JourneyTemplateId = keyof typeof JOURNEY_TEMPLATES

export function journeyTemplate(id: string) {
  if (!Object.hasOwn(JOURNEY_TEMPLATES, id)) {
    const known = Object.keys(JOURNEY_TEMPLATES)
    throw new ApiError(
      400,
      'unknown_template',
      `No journey template ${id}; the templates are ${known.join(', ')}`,
      { known },
    )
  }
  return JOURNEY_TEMPLATES[id as JourneyTemplateId]
}

/** Creates what the template's definition names and does not exist yet; answers the definition. */
export async function installTemplate(
  env: Pick<Env, 'DB' | 'EVENTS'>,
  id: string,
): Promise<JourneyDefinition> {
  const template = journeyTemplate(id)
  // Installed once, read on every later install: one read says which parts exist already.
  const existing = await existingParts(
    env.DB,
    template.emailTemplates.map((email) => email.id),
    template.segments.map((segment) => segment.id),
  )
  for (const email of template.emailTemplates) {
    if (existing.templates.has(email.id)) continue
    const made = await createTemplate(env.DB, {
      name: email.name,
      subject: email.subject,
      html: email.html,
      text: email.text ?? null,
      kind: email.kind,
      group: null,
      layout: null,
    }).catch(async (error: unknown) => {
      if (error instanceof ApiError && error.code === 'template_exists') return null
      throw error
    })
    // Template ids are their names' slugs: a library entry whose id is not would save a
    // definition naming a template that does not exist.
    if (made && made.id !== email.id) {
      throw new Error(`Journey template ${id}: email template ${email.id} was made as ${made.id}`)
    }
  }
  for (const segment of template.segments) {
    if (existing.segments.has(segment.id)) continue
    try {
      await createSegment(env, segment)
    } catch (error) {
      if (!(await segmentExists(env.DB, segment.id))) throw error
    }
  }
  return template.definition
}

/** Which of the email templates and segments named exist, in one round trip. */
async function existingParts(db: D1Database, templateIds: string[], segmentIds: string[]) {
  const { results } = await db
    .prepare(
      `SELECT 'template' AS kind, id FROM templates WHERE id IN (SELECT value FROM json_each(?1))
       UNION ALL
       SELECT 'segment', id FROM segments WHERE id IN (SELECT value FROM json_each(?2))`,
    )
    .bind(JSON.stringify(templateIds), JSON.stringify(segmentIds))
    .all<{ kind: 'template' | 'segment'; id: string }>()
  const of = (kind: string) => new Set(results.filter((r) => r.kind === kind).map((r) => r.id))
  return { templates: of('template'), segments: of('segment') }
}
