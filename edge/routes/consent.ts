import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { ConsentStateSchema } from '../../contracts/contact-profile'
import { contactStub } from '../../durable/contact-client'
import { PURPOSES, STAFF_CONSENT_METHODS, type Purpose } from '../../domain/consent'
import { existingContact } from '../contacts/existing-contact'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { PurposesSchema, authErrors, json, notFound } from './common'

const ConsentSchema = z
  .object({
    current: ConsentStateSchema,
    ledger: z.array(
      z.object({
        at: z.string(),
        purposes: z.record(z.string(), z.boolean()),
        policyVersion: z.string(),
        source: z.string(),
        method: z.string(),
        identity: z.string().nullable(),
        ipHash: z.string().nullable(),
        userAgentHash: z.string().nullable(),
      }),
    ),
  })
  .openapi('ConsentLedger')

const RecordSchema = z
  .object({
    purposes: PurposesSchema,
    policyVersion: z.string().trim().min(1).max(100),
    source: z.string().trim().min(1).max(100),
    method: z
      .enum(STAFF_CONSENT_METHODS, {
        error:
          "must be api or import; a person's own banner, TCF or GPC decisions come from their " +
          'browser through POST /v1/consent',
      })
      .default('api'),
  })
  .openapi('ConsentRecord')

const TotalsSchema = z
  .object({
    contacts: z.number().int(),
    purposes: z.object(
      Object.fromEntries(
        PURPOSES.map((p) => [
          p,
          z.object({
            granted: z.number().int(),
            denied: z.number().int(),
            unknown: z.number().int(),
          }),
        ]),
      ) as Record<
        Purpose,
        z.ZodObject<{ granted: z.ZodNumber; denied: z.ZodNumber; unknown: z.ZodNumber }>
      >,
    ),
  })
  .openapi('ConsentTotals')

const ContactParam = z.object({ id: z.string().min(1).max(300) })

export function consentRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}/consent',
      tags: ['consent'],
      summary: "The contact's consent ledger and effective consent",
      request: { params: ContactParam },
      responses: { 200: json(ConsentSchema, 'Ledger, oldest first'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const key = await existingContact(c.env, c.req.valid('param').id)
      const view = await contactStub(c.env, key).consent()
      return c.json({ current: view.current, ledger: view.ledger }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/contacts/{id}/consent',
      tags: ['consent'],
      summary: 'Record a consent decision through the API (support desk, import)',
      request: {
        params: ContactParam,
        body: { content: { 'application/json': { schema: RecordSchema } }, required: true },
      },
      responses: {
        200: json(ConsentSchema, 'The ledger after the decision (a repeat is recorded once)'),
        ...authErrors,
        409: json(
          ErrorSchema,
          '`contact_suppressed`: the person was erased and their identifiers are suppressed; ' +
            'nothing was recorded. Lift the suppression (DELETE /api/privacy/suppressions/{hash}) ' +
            'first if the person asked to be known again.',
        ),
      },
    }),
    async (c) => {
      const key = c.req.valid('param').id
      const input = c.req.valid('json')
      const outcome = await contactStub(c.env, key).recordConsent(key, { ...input, identity: key })
      c.set('auditDetail', {
        purposes: input.purposes,
        method: input.method,
        outcome: outcome.status,
      })
      if (outcome.status === 'suppressed') {
        throw new ApiError(
          409,
          'contact_suppressed',
          `${key} was erased and its identifiers are suppressed: the decision was not recorded`,
        )
      }
      return c.json({ current: outcome.current, ledger: outcome.ledger }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/consent/totals',
      tags: ['consent'],
      summary: 'How many contacts granted or denied each purpose',
      responses: {
        200: json(TotalsSchema, 'Totals over contacts with a consent record'),
        ...authErrors,
      },
    }),
    async (c) => {
      const columns = PURPOSES.map(
        (p) =>
          `SUM(${p} = 1) AS ${p}_granted, SUM(${p} = 0) AS ${p}_denied, SUM(${p} IS NULL) AS ${p}_unknown`,
      ).join(', ')
      const row = (await c.env.DB.prepare(
        `SELECT COUNT(*) AS contacts, ${columns} FROM contact_consent`,
      ).first<Record<string, number | null>>()) ?? { contacts: 0 }
      const purposes = Object.fromEntries(
        PURPOSES.map((p) => [
          p,
          {
            granted: row[`${p}_granted`] ?? 0,
            denied: row[`${p}_denied`] ?? 0,
            unknown: row[`${p}_unknown`] ?? 0,
          },
        ]),
      ) as z.infer<typeof TotalsSchema>['purposes']
      return c.json({ contacts: row.contacts ?? 0, purposes }, 200)
    },
  )
  return app
}
