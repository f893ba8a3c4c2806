import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { TEMPLATE_KINDS } from '../../contracts/messaging'
import { contactStub } from '../../durable/contact-client'
import { randomToken } from '../access/secrets'
import { existingContact } from '../contacts/existing-contact'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { renderEmail, type EmailTemplate } from '../messaging/render'
import { SLUG, slugOf } from '../messaging/slug'
import {
  createSubscriptionGroup,
  GROUP_LIMITS,
  listSubscriptionGroups,
} from '../messaging/subscription-groups'
import {
  createTemplate,
  deleteSnippet,
  deleteTemplate,
  findTemplate,
  invalidTemplate,
  listSnippets,
  listTemplates,
  putSnippet,
  readSnippets,
  TEMPLATE_LIMITS,
  updateTemplate,
} from '../messaging/templates'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

/**
 * Email templates (Liquid; edge/messaging/render.ts says what a template may use), the snippets
 * they name as layouts and partials, and subscription groups. A template is parsed when saved:
 * a Liquid error is a 400 `template_invalid` naming the part, line and column.
 */

const Slug = z.string().regex(SLUG, 'lower-case letters, digits, - and _ (at most 64)')

const TemplateSchema = z
  .object({
    id: z.string().openapi({ example: 'welcome' }),
    name: z.string(),
    subject: z.string(),
    html: z.string(),
    text: z.string().nullable().openapi({ description: 'null: made from the HTML when sending' }),
    kind: z.enum(TEMPLATE_KINDS),
    group: z.string().nullable().openapi({
      description: 'Subscription group; null: all marketing for marketing templates',
    }),
    layout: z.string().nullable().openapi({ description: 'The snippet wrapping the HTML' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Template')

const fields = {
  name: z.string().trim().min(1).max(TEMPLATE_LIMITS.nameChars).openapi({ example: 'Welcome' }),
  subject: z
    .string()
    .min(1)
    .max(TEMPLATE_LIMITS.subjectChars)
    .openapi({ example: 'Welcome, {{ contact.traits.firstName | default: "friend" }}' }),
  html: z
    .string()
    .min(1)
    .max(TEMPLATE_LIMITS.htmlChars)
    .openapi({ description: 'Liquid; every output is HTML-escaped (`| raw` opts out)' }),
  text: z.string().min(1).max(TEMPLATE_LIMITS.textChars).nullable(),
  kind: z.enum(TEMPLATE_KINDS),
  group: Slug.nullable(),
  layout: Slug.nullable().openapi({
    description: 'A snippet with `{% block %}{% endblock %}` where the HTML goes',
  }),
}

const CreateTemplateSchema = z
  .strictObject({
    ...fields,
    text: fields.text.optional().openapi({ description: 'Left out: made from the HTML' }),
    kind: fields.kind.default('marketing'),
    group: fields.group.optional(),
    layout: fields.layout.optional(),
  })
  .openapi('CreateTemplate')

const UpdateTemplateSchema = z
  .strictObject({
    name: fields.name.optional(),
    subject: fields.subject.optional(),
    html: fields.html.optional(),
    text: fields.text.optional(),
    kind: fields.kind.optional(),
    group: fields.group.optional(),
    layout: fields.layout.optional(),
  })
  .refine((changes) => Object.keys(changes).length > 0, 'give at least one field')
  .openapi('UpdateTemplate')

const ContactIdField = z
  .string()
  .min(1)
  .max(300)
  .openapi({ description: 'userId, or anon:<anonymousId>', example: 'user-42' })

const previewScope = {
  data: z.record(z.string(), z.unknown()).optional().openapi({ description: 'As `data`' }),
  event: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({ description: 'As `event`, the trigger' }),
}

/** Unsaved parts of a template, for an editor previewing as its author types. */
const DraftSchema = z
  .strictObject({
    subject: fields.subject,
    html: fields.html,
    text: fields.text.optional().openapi({ description: 'Left out or null: made from the HTML' }),
    layout: fields.layout.optional(),
  })
  .openapi('TemplateDraft')

const PreviewSchema = z
  .strictObject({
    contactId: ContactIdField,
    ...previewScope,
    draft: DraftSchema.optional().openapi({
      description:
        "Rendered instead of the stored subject, HTML and text; a layout it leaves out is the stored template's",
    }),
  })
  .openapi('TemplatePreviewRequest')

const DraftPreviewSchema = z
  .strictObject({ contactId: ContactIdField, ...previewScope, draft: DraftSchema })
  .openapi('TemplateDraftPreviewRequest')

const RenderedSchema = z
  .object({ subject: z.string(), html: z.string(), text: z.string() })
  .openapi('RenderedEmail')

const SnippetSchema = z
  .object({ name: z.string(), body: z.string(), updatedAt: z.string() })
  .openapi('Snippet')

const PutSnippetSchema = z
  .strictObject({ body: z.string().min(1).max(TEMPLATE_LIMITS.snippetChars) })
  .openapi('PutSnippet')

const GroupSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    defaultSubscribed: z.boolean().openapi({
      description: 'Whether a contact who never chose is subscribed (opt-out) or not (opt-in)',
    }),
    createdAt: z.string().nullable().openapi({ description: 'null for all marketing' }),
  })
  .openapi('SubscriptionGroup')

const CreateGroupSchema = z
  .strictObject({
    id: Slug.optional().openapi({ description: 'Left out: the slug of the name' }),
    name: z.string().trim().min(1).max(GROUP_LIMITS.nameChars),
    defaultSubscribed: z.boolean().default(false),
  })
  .openapi('CreateSubscriptionGroup')

const IdParam = z.object({ id: z.string().min(1).max(100) })
const SnippetParam = z.object({ name: Slug })

const conflict = (description: string) => ({ 409: json(ErrorSchema, description) })

export function templateRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/templates',
      tags: ['messaging'],
      summary: 'List email templates, newest first',
      request: { query: PageQuerySchema },
      responses: {
        200: json(listOf(TemplateSchema, 'TemplateList'), 'Templates, newest first'),
        ...authErrors,
      },
    }),
    async (c) => c.json(await listTemplates(c.env.DB, c.req.valid('query')), 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates',
      tags: ['messaging'],
      summary: 'Create an email template; its id is the slug of its name',
      request: {
        body: { content: { 'application/json': { schema: CreateTemplateSchema } }, required: true },
      },
      responses: {
        201: json(TemplateSchema, 'The new template'),
        ...authErrors,
        ...conflict('The id is taken (template_exists), or the limit is reached'),
      },
    }),
    async (c) => {
      const input = c.req.valid('json')
      const template = await createTemplate(c.env.DB, {
        ...input,
        text: input.text ?? null,
        group: input.group ?? null,
        layout: input.layout ?? null,
      })
      return c.json(template, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/templates/{id}',
      tags: ['messaging'],
      summary: 'An email template',
      request: { params: IdParam },
      responses: { 200: json(TemplateSchema, 'The template'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      return c.json((await findTemplate(c.env.DB, id)) ?? noTemplate(id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/templates/{id}',
      tags: ['messaging'],
      summary: 'Change some fields of a template; its id stays',
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: UpdateTemplateSchema } }, required: true },
      },
      responses: { 200: json(TemplateSchema, 'The changed template'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const template = await updateTemplate(c.env.DB, id, c.req.valid('json'))
      return c.json(template ?? noTemplate(id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/templates/{id}',
      tags: ['messaging'],
      summary: 'Delete a template; messages not yet sent with it fail',
      request: { params: IdParam },
      responses: { 200: json(TemplateSchema, 'The deleted template'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      return c.json((await deleteTemplate(c.env.DB, id)) ?? noTemplate(id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates/{id}/preview',
      tags: ['messaging'],
      summary: "Render a template with a contact's traits and account, sending nothing",
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: PreviewSchema } }, required: true },
      },
      responses: {
        200: json(RenderedSchema, 'Subject, HTML and text as they would be sent'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { draft, ...input } = c.req.valid('json')
      const stored = (await findTemplate(c.env.DB, id)) ?? noTemplate(id)
      const template = draft
        ? {
            ...draft,
            text: draft.text ?? null,
            // null: no layout; left out: the stored template's.
            layout: draft.layout === undefined ? stored.layout : draft.layout,
          }
        : stored
      c.set('auditDetail', { template: id, ...(draft ? { draft: true } : {}) })
      return c.json(await previewFor(c, template, input), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/templates/preview',
      tags: ['messaging'],
      summary: "Render a template not yet saved with a contact's traits and account",
      request: {
        body: { content: { 'application/json': { schema: DraftPreviewSchema } }, required: true },
      },
      responses: {
        200: json(RenderedSchema, 'Subject, HTML and text as they would be sent'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { draft, ...input } = c.req.valid('json')
      c.set('auditDetail', { draft: true })
      const template = { ...draft, text: draft.text ?? null, layout: draft.layout ?? null }
      return c.json(await previewFor(c, template, input), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/snippets',
      tags: ['messaging'],
      summary: 'List the snippets templates name as layouts and partials',
      responses: {
        200: json(z.object({ items: z.array(SnippetSchema), cursor: z.null() }), 'All snippets'),
        ...authErrors,
      },
    }),
    async (c) => c.json({ items: await listSnippets(c.env.DB), cursor: null }, 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/snippets/{name}',
      tags: ['messaging'],
      summary: "Create or replace a snippet (`{% render 'name' %}`, or a layout)",
      request: {
        params: SnippetParam,
        body: { content: { 'application/json': { schema: PutSnippetSchema } }, required: true },
      },
      responses: {
        200: json(SnippetSchema, 'The snippet as saved'),
        ...authErrors,
        ...conflict(`Already ${TEMPLATE_LIMITS.snippets} snippets (limit_reached)`),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      return c.json(await putSnippet(c.env.DB, name, c.req.valid('json').body), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/snippets/{name}',
      tags: ['messaging'],
      summary: 'Delete a snippet no template or snippet names',
      request: { params: z.object({ name: z.string().min(1).max(100) }) },
      responses: {
        200: json(z.object({ name: z.string(), deleted: z.literal(true) }), 'Deleted'),
        ...authErrors,
        ...notFound,
        ...conflict('Templates or snippets name it, listed in details (snippet_in_use)'),
      },
    }),
    async (c) => {
      const { name } = c.req.valid('param')
      if (!(await deleteSnippet(c.env.DB, name))) {
        throw new ApiError(404, 'not_found', `No snippet ${name}`)
      }
      return c.json({ name, deleted: true as const }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/subscription-groups',
      tags: ['messaging'],
      summary: 'List subscription groups, all marketing first',
      responses: {
        200: json(z.object({ items: z.array(GroupSchema), cursor: z.null() }), 'All groups'),
        ...authErrors,
      },
    }),
    async (c) => c.json({ items: await listSubscriptionGroups(c.env.DB), cursor: null }, 200),
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/subscription-groups',
      tags: ['messaging'],
      summary: 'Create a subscription group (opt-in unless defaultSubscribed)',
      request: {
        body: { content: { 'application/json': { schema: CreateGroupSchema } }, required: true },
      },
      responses: {
        201: json(GroupSchema, 'The new group'),
        ...authErrors,
        ...conflict('The id is taken (group_exists; marketing is), or the limit is reached'),
      },
    }),
    async (c) => {
      const { id, name, defaultSubscribed } = c.req.valid('json')
      const group = await createSubscriptionGroup(c.env.DB, {
        id: id ?? (slugOf(name) || `group_${randomToken(8).toLowerCase()}`),
        name,
        defaultSubscribed,
      })
      return c.json(group, 201)
    },
  )
  return app
}

/**
 * Renders a template for one contact as sending would, sending nothing. It shows a person's
 * data: the audit row names whose (as a keyed hash). A Liquid problem is a 400
 * `template_invalid` naming the part, line and column.
 */
async function previewFor(
  c: Context<{ Bindings: Env }>,
  template: EmailTemplate,
  input: { contactId: string; data?: Record<string, unknown>; event?: Record<string, unknown> },
) {
  const key = await existingContact(c.env, input.contactId)
  c.set('auditSubject', key)
  const result = await contactStub(c.env, key).profile()
  if (!result.found) throw new ApiError(404, 'not_found', `No contact ${input.contactId}`)
  const { traits, groups } = result.profile
  try {
    return renderEmail(template, await readSnippets(c.env.DB), {
      contact: { key, traits },
      event: input.event ?? null,
      account: groups[0]?.traits ?? null,
      data: input.data ?? {},
    })
  } catch (error) {
    throw invalidTemplate(error)
  }
}

function noTemplate(id: string): never {
  throw new ApiError(404, 'not_found', `No template ${id}`)
}
