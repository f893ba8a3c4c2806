import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { html } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { ALL_MARKETING_GROUP } from '../../contracts/messaging'
import { contactStub, resolveContact } from '../../durable/contact-client'
import type { Env } from '../env'
import { ApiError, ErrorSchema, errorResponse } from '../errors'
import { listSubscriptionGroups, type SubscriptionGroup } from '../messaging/subscription-groups'
import { readUnsubscribeToken, type UnsubscribeParts } from '../messaging/unsubscribe'

/**
 * The links in marketing email (edge/messaging/unsubscribe.ts), outside /api and without a
 * login: the signed token is the only credential. `POST /u/:token` is RFC 8058's one-click
 * unsubscribe, sent by mailbox providers; `GET /u/:token` is the preference page a person opens,
 * plain HTML with no script, posting its form to `/u/:token/preferences`.
 */

/** A token is a few hundred characters (a contact key is at most 300); past this, none of ours. */
const MAX_TOKEN_CHARS = 2_000

const TokenParam = z.object({
  token: z.string().openapi({ description: 'The signed token from the email' }),
})

const htmlPage = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() } },
})

const invalidToken = {
  description: 'Not a token this deployment signed: JSON, or a page when text/html is accepted',
  content: {
    'application/json': { schema: ErrorSchema },
    'text/html': { schema: z.string() },
  },
}

const OneClickSchema = z
  .looseObject({
    'List-Unsubscribe': z.string().optional().openapi({ example: 'One-Click' }),
  })
  .openapi('OneClickUnsubscribe')

const PreferencesSchema = z
  .looseObject({
    action: z
      .enum(['save', 'unsubscribe-all'])
      .optional()
      .openapi({ description: 'unsubscribe-all: leave all marketing; else save the boxes' }),
  })
  .openapi({
    description: 'One field `group.<id>=on` for each group to stay in; a group left out is left',
  })

export function unsubscribeRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'post',
      path: '/u/{token}',
      tags: ['messaging'],
      summary: 'One-click unsubscribe (RFC 8058) from the group the email was sent for',
      security: [],
      request: {
        params: TokenParam,
        body: {
          content: { 'application/x-www-form-urlencoded': { schema: OneClickSchema } },
          required: false,
        },
      },
      responses: {
        200: {
          description: 'Unsubscribed (also when the contact no longer exists)',
          content: { 'text/plain': { schema: z.string() }, 'text/html': { schema: z.string() } },
        },
        400: invalidToken,
      },
    }),
    async (c) => {
      const parts = await tokenParts(c)
      if (!parts) return invalid(c)
      const key = await resolveContact(c.env, parts.contactKey)
      if (key) {
        await contactStub(c.env, key).setSubscription(key, parts.groupId, false, 'unsubscribe_link')
      }
      if (!acceptsHtml(c)) return c.text('You are unsubscribed.', 200)
      const groups = await listSubscriptionGroups(c.env.DB)
      const group = groups.find((g) => g.id === parts.groupId)?.name ?? 'these emails'
      return page(
        c,
        200,
        'Unsubscribed',
        html`<p>You will get no more email from “${group}”.</p>
          <p><a href="/u/${c.req.param('token')}">Choose what else you get</a></p>`,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/u/{token}',
      tags: ['messaging'],
      summary: 'The preference page: every subscription group with the contact’s choice',
      security: [],
      request: { params: TokenParam },
      responses: {
        200: htmlPage('The page, with a form per group'),
        400: invalidToken,
        404: htmlPage('The contact no longer exists'),
      },
    }),
    async (c) => {
      const parts = await tokenParts(c)
      if (!parts) return invalid(c)
      return preferencePage(c, parts, null)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/u/{token}/preferences',
      tags: ['messaging'],
      summary: 'Save the preference page: join or leave each group, or leave all marketing',
      security: [],
      request: {
        params: TokenParam,
        body: {
          content: { 'application/x-www-form-urlencoded': { schema: PreferencesSchema } },
          required: false,
        },
      },
      responses: {
        200: htmlPage('The page again, with the choices saved'),
        400: invalidToken,
        404: htmlPage('The contact no longer exists'),
      },
    }),
    async (c) => {
      const parts = await tokenParts(c)
      if (!parts) return invalid(c)
      const key = await resolveContact(c.env, parts.contactKey)
      if (!key) return gone(c)
      const form = await formOf(c)
      const contact = contactStub(c.env, key)
      if (form.action === 'unsubscribe-all') {
        await contact.setSubscription(key, ALL_MARKETING_GROUP, false, 'preference_page')
        return preferencePage(c, parts, 'You will get no more marketing email from us.')
      }
      const [groups, preferences] = await Promise.all([
        listSubscriptionGroups(c.env.DB),
        contact.messagingPreferences(key),
      ])
      if (!preferences.found) return gone(c)
      for (const group of groups) {
        const wanted = form[`group.${group.id}`] !== undefined
        if (wanted !== subscribed(group, preferences.subscriptions)) {
          await contact.setSubscription(key, group.id, wanted, 'preference_page')
        }
      }
      return preferencePage(c, parts, 'Your choices are saved.')
    },
  )
  return app
}

type UnsubscribeContext = Context<{ Bindings: Env }>

async function tokenParts(c: UnsubscribeContext): Promise<UnsubscribeParts | null> {
  const token = c.req.param('token') ?? ''
  return token.length > MAX_TOKEN_CHARS ? null : readUnsubscribeToken(c.env, token)
}

/** The form as posted; whatever else was sent (JSON, nothing) reads as an empty form. */
async function formOf(c: UnsubscribeContext): Promise<Record<string, unknown>> {
  const type = c.req.header('Content-Type') ?? ''
  if (!/^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type)) return {}
  return c.req.parseBody()
}

function subscribed(group: SubscriptionGroup, choices: Record<string, boolean>): boolean {
  return choices[group.id] ?? group.defaultSubscribed
}

async function preferencePage(
  c: UnsubscribeContext,
  parts: UnsubscribeParts,
  notice: string | null,
) {
  const key = await resolveContact(c.env, parts.contactKey)
  if (!key) return gone(c)
  const [groups, preferences] = await Promise.all([
    listSubscriptionGroups(c.env.DB),
    contactStub(c.env, key).messagingPreferences(key),
  ])
  if (!preferences.found) return gone(c)
  const token = c.req.param('token')
  const boxes = groups.map(
    (group) =>
      html`<label
        ><input
          type="checkbox"
          name="group.${group.id}"
          ${subscribed(group, preferences.subscriptions) ? 'checked' : ''}
        />
        ${group.name}${group.id === parts.groupId ? html` <small>(this email)</small>` : ''}</label
      >`,
  )
  return page(
    c,
    200,
    'Email preferences',
    html`${notice ? html`<p class="notice">${notice}</p>` : ''}
      <form method="post" action="/u/${token}/preferences">
        <fieldset>
          <legend>Send me</legend>
          ${boxes}
        </fieldset>
        <p>
          <button type="submit" name="action" value="save">Save</button>
          <button type="submit" name="action" value="unsubscribe-all">
            Unsubscribe from all marketing
          </button>
        </p>
      </form>`,
  )
}

function gone(c: UnsubscribeContext) {
  return page(
    c,
    404,
    'Nothing to change',
    html`<p>We hold nothing for this link any more, and send nothing through it.</p>`,
  )
}

function invalid(c: UnsubscribeContext) {
  const message = 'This unsubscribe link is not valid; it may have been cut short'
  if (acceptsHtml(c)) return page(c, 400, 'Link not valid', html`<p>${message}.</p>`)
  return errorResponse(c, new ApiError(400, 'invalid_token', message))
}

function acceptsHtml(c: UnsubscribeContext): boolean {
  return c.req.header('Accept')?.includes('text/html') ?? false
}

/**
 * A page whose every value is escaped (hono/html), that loads nothing, runs nothing and posts
 * only to this origin; the token in its URL is not sent on as a referrer, nor kept in caches.
 */
async function page(
  c: UnsubscribeContext,
  status: 200 | 400 | 404,
  title: string,
  body: HtmlEscapedString | Promise<HtmlEscapedString>,
) {
  c.header(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  )
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cache-Control', 'no-store')
  c.header('X-Content-Type-Options', 'nosniff')
  return c.html(
    html`<!doctype html>
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="robots" content="noindex" />
          <title>${title}</title>
          <style>
            body {
              font:
                16px/1.5 system-ui,
                sans-serif;
              max-width: 32rem;
              margin: 3rem auto;
              padding: 0 1rem;
              color: #222;
            }
            label {
              display: block;
              margin: 0.5rem 0;
            }
            fieldset {
              border: 1px solid #ccc;
              border-radius: 6px;
            }
            .notice {
              background: #eef7ee;
              padding: 0.5rem 1rem;
              border-radius: 6px;
            }
            button {
              margin-right: 0.5rem;
            }
          </style>
        </head>
        <body>
          <main>
            <h1>${title}</h1>
            ${await body}
          </main>
        </body>
      </html>`,
    status,
  )
}
