import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { findTemplate } from '../messaging/templates'
import { suggestSubjects, textModel } from '../predictions/ai'
import { authErrors, json, notFound } from './common'

const SuggestionsSchema = z
  .object({
    suggestions: z.array(z.string()).max(5).openapi({ description: 'Up to five, one line each' }),
    source: z.literal('ai'),
  })
  .openapi('SubjectSuggestions')

/**
 * `POST /api/templates/:id/subject-suggestions`: alternatives to a template's subject by
 * Workers AI. Without the binding it answers `ai_unavailable` rather than rule-made variants:
 * rewording a subject by rules (a question mark, an emoji, "Last chance:") would pass off
 * boilerplate as suggestions, which is worse than saying plainly the feature is off.
 */
export function subjectSuggestionRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates/{id}/subject-suggestions',
      tags: ['messaging'],
      summary: "Alternatives to the template's subject line, by Workers AI",
      request: { params: z.object({ id: z.string().min(1).max(200) }) },
      responses: {
        200: json(SuggestionsSchema, 'Suggested subject lines'),
        ...authErrors,
        ...notFound,
        409: json(ErrorSchema, 'ai_unavailable: this deployment binds no Workers AI'),
        502: json(ErrorSchema, 'ai_failed: the model did not answer'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const model = textModel(c.env)
      if (!model) {
        throw new ApiError(
          409,
          'ai_unavailable',
          'Subject suggestions need Workers AI: add [ai] binding = "AI" to wrangler.toml and deploy',
        )
      }
      const template = await findTemplate(c.env.DB, id)
      if (!template) throw new ApiError(404, 'not_found', `No template ${id}`)
      let suggestions: string[]
      try {
        suggestions = await suggestSubjects(model, template.subject)
      } catch (error) {
        console.warn('subject suggestions: the model failed', error)
        throw new ApiError(502, 'ai_failed', 'Workers AI did not answer; try again')
      }
      return c.json({ suggestions, source: 'ai' as const }, 200)
    },
  )
  return app
}
