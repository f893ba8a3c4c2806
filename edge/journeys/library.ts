import type { JourneyDefinition } from '../../domain/journeys/definition'
import { JOURNEY_TEMPLATES } from '../../domain/journeys/templates'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { createTemplate, findTemplate } from '../messaging/templates'
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
  for (const email of template.emailTemplates) {
    if (await findTemplate(env.DB, email.id)) continue
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
    if (await segmentExists(env.DB, segment.id)) continue
    try {
      await createSegment(env, segment)
    } catch (error) {
      if (!(await segmentExists(env.DB, segment.id))) throw error
    }
  }
  return template.definition
}
