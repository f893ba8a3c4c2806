import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { contactStub } from '../../durable/contact-client'
import {
  CandidateActionsSchema,
  ContactPredictionsSchema,
  PredictionSettingsSchema,
} from '../../contracts/predictions'
import { summaryProblem } from '../../domain/predictions/bgnbd'
import { spendProblem } from '../../domain/predictions/gamma-gamma'
import { ALL_CONTACTS, learnedRates, nextBestAction } from '../../domain/predictions/next-action'
import { existingContact } from '../contacts/existing-contact'
import type { Env } from '../env'
import { ApiError } from '../errors'
import {
  readActions,
  readOutcomes,
  recordOutcome,
  unknownSegments,
  writeActions,
} from '../predictions/actions'
import { explainChurn, textModel } from '../predictions/ai'
import { atRiskPage } from '../predictions/at-risk'
import { churnFacts } from '../predictions/churn-facts'
import { newestFit, readPredictionSettings } from '../../durable/contact-predictions'
import { writePredictionSettings } from '../predictions/config'
import { fitPurchaseModels, requestPredictionFit } from '../predictions/fit'
import { PageQuerySchema, authErrors, json, listOf, notFound } from './common'

/** Rows `POST /api/predictions/fit` takes: about 4 MB of JSON, a few seconds of fitting. */
export const MAX_FIT_ROWS = 200_000

const BgnbdSchema = z
  .object({
    r: z.number(),
    alpha: z.number(),
    a: z.number(),
    b: z.number(),
    logLikelihood: z.number(),
  })
  .openapi('BgnbdFit')

const GammaGammaSchema = z
  .object({ p: z.number(), q: z.number(), gamma: z.number() })
  .openapi('GammaGammaFit')

const FitRequestSchema = z
  .object({
    customers: z
      .array(
        z.object({
          x: z.number().openapi({ description: 'Repeat purchases (all but the first)' }),
          tx: z.number().openapi({ description: 'Time of the last purchase after the first' }),
          T: z.number().openapi({ description: 'Time from the first purchase to the end' }),
          m: z.number().optional().openapi({ description: 'Mean value of the repeat purchases' }),
        }),
      )
      .min(1)
      .max(MAX_FIT_ROWS),
  })
  .openapi('PredictionFitRequest')

const FitResultSchema = z
  .object({ bgnbd: BgnbdSchema, gammaGamma: GammaGammaSchema.optional() })
  .openapi('PredictionFitResult')

const ModelSchema = z
  .object({
    id: z.string(),
    fittedAt: z.string(),
    source: z.enum(['scheduled', 'manual']),
    customers: z.number().int(),
    logLikelihood: z.number(),
    bgnbd: BgnbdSchema.extend({
      converged: z.boolean(),
      penalizer: z.number().openapi({ description: '0, or 0.001 when the plain fit diverged' }),
    }),
    gammaGamma: GammaGammaSchema.extend({
      logLikelihood: z.number(),
      converged: z.boolean(),
      penalizer: z.number(),
      customers: z.number().int().openapi({ description: 'Repeat buyers it was fitted on' }),
    }).nullable(),
    settings: PredictionSettingsSchema,
  })
  .openapi('PredictionModel')

const AtRiskSchema = z
  .object({
    contactId: z.string(),
    churnRisk: z.number(),
    lapseRisk: z
      .number()
      .nullable()
      .openapi({ description: 'Chance of dropping out within 90 days' }),
    clv: z.number().nullable(),
    value: z.number().openapi({ description: 'clv × churnRisk, the order of the list' }),
    pAlive: z.number().nullable(),
    engagement: z.number().nullable(),
    updatedAt: z.string(),
  })
  .openapi('AtRiskContact')

const ContactParam = z.object({ id: z.string().min(1).max(300) })

const OutcomeSchema = z
  .object({
    contactId: z.string().min(1).max(300),
    success: z.boolean().openapi({ description: 'Whether the contact reached the goal' }),
  })
  .openapi('ActionOutcome')

const ArmSchema = z
  .object({
    action: z.string(),
    segment: z.string().openapi({ description: "The action's segment, or 'all'" }),
    successes: z.number().int(),
    failures: z.number().int(),
  })
  .openapi('ActionArm')

const LearnedRateSchema = ArmSchema.extend({
  rate: z.number().openapi({
    description: "The posterior mean of the action's goal rate: its prior with its outcomes",
  }),
}).openapi('ActionLearnedRate')

const ExplanationSchema = z
  .object({
    text: z.string(),
    source: z.enum(['ai', 'rules']).openapi({
      description: "'ai' when Workers AI is bound and answered; otherwise the rules' sentence",
    }),
  })
  .openapi('ChurnExplanation')

export function predictionRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/predictions/settings',
      tags: ['predictions'],
      summary: 'Purchase events, value property, CLV horizon, engagement half-life, at-risk bar',
      responses: { 200: json(PredictionSettingsSchema, 'The settings in force'), ...authErrors },
    }),
    async (c) => c.json(await readPredictionSettings(c.env.DB), 200),
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/predictions/settings',
      tags: ['predictions'],
      summary: 'Change the prediction settings; contacts follow with their next call',
      request: {
        body: {
          content: { 'application/json': { schema: PredictionSettingsSchema } },
          required: true,
        },
      },
      responses: {
        200: json(PredictionSettingsSchema, 'The settings now in force'),
        ...authErrors,
      },
    }),
    async (c) => {
      const value = c.req.valid('json')
      await writePredictionSettings(c.env.DB, value)
      return c.json(value, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/predictions/refit',
      tags: ['predictions'],
      summary: 'Fit the purchase models again over every purchaser, in the background',
      responses: {
        202: json(z.object({ requested: z.literal(true) }), 'The fit is queued'),
        ...authErrors,
      },
    }),
    async (c) => {
      await requestPredictionFit(c.env, 'manual')
      return c.json({ requested: true as const }, 202)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/predictions/model',
      tags: ['predictions'],
      summary: 'The newest fit of the BG/NBD and Gamma-Gamma models',
      responses: {
        200: json(ModelSchema, 'Parameters, log-likelihood, customers, when'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const fit = await newestFit(c.env.DB)
      if (!fit) throw new ApiError(404, 'not_found', 'No fit yet: nobody has bought, or none ran')
      return c.json(fit, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/predictions/fit',
      tags: ['predictions'],
      summary: 'Fit the models to purchase summaries you bring (changes nothing here)',
      description:
        'The same fitting code as the scheduled fit. Times in any one unit; alpha comes out in ' +
        'it. The Gamma-Gamma is fitted when at least 20 rows have x ≥ 1 and m.',
      request: {
        body: { content: { 'application/json': { schema: FitRequestSchema } }, required: true },
      },
      responses: { 200: json(FitResultSchema, 'Fitted parameters'), ...authErrors },
    }),
    async (c) => {
      const { customers } = c.req.valid('json')
      customers.forEach(({ x, tx, T, m }, i) => {
        const problem =
          summaryProblem({ x, tx, T }) ??
          (x >= 1 && m !== undefined ? spendProblem({ x, m }) : null)
        if (problem) throw new ApiError(400, 'invalid_request', `customers[${i}]: ${problem}`)
      })
      const { bgnbd, gammaGamma } = fitPurchaseModels(customers)
      return c.json(
        {
          bgnbd: { ...bgnbd.params, logLikelihood: bgnbd.logLikelihood },
          ...(gammaGamma ? { gammaGamma: gammaGamma.params } : {}),
        },
        200,
      )
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/predictions/at-risk',
      tags: ['predictions'],
      summary: 'Contacts at risk of churning, most value at risk (CLV × churn risk) first',
      request: { query: PageQuerySchema },
      responses: {
        200: json(listOf(AtRiskSchema, 'AtRiskList'), 'Churn risk at or above the threshold'),
        ...authErrors,
      },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const { atRiskThreshold } = await readPredictionSettings(c.env.DB)
      const page = await atRiskPage(c.env.DB, { threshold: atRiskThreshold, limit, cursor })
      c.set('auditDetail', { limit, cursor: cursor !== undefined, returned: page.items.length })
      return c.json(page, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/predictions/actions',
      tags: ['predictions'],
      summary: 'The candidate actions next-best-action chooses from',
      responses: { 200: json(CandidateActionsSchema, 'The actions in force'), ...authErrors },
    }),
    async (c) => c.json(await readActions(c.env.DB), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/predictions/actions/outcomes',
      tags: ['predictions'],
      summary: "What next-best-action has learned: each action's outcomes and goal rate",
      responses: {
        200: json(z.array(LearnedRateSchema), 'One row per action in force'),
        ...authErrors,
      },
    }),
    async (c) => {
      const [actions, outcomes] = await Promise.all([readActions(c.env.DB), readOutcomes(c.env.DB)])
      return c.json(learnedRates(actions, outcomes), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'put',
      path: '/predictions/actions',
      tags: ['predictions'],
      summary: 'Set the candidate actions (up to 20); outcomes already counted are kept',
      description:
        'Until journeys exist an action means: take it, and it succeeded if the contact ' +
        'performs goalEvent within windowDays; POST its outcomes to count them.',
      request: {
        body: {
          content: { 'application/json': { schema: CandidateActionsSchema } },
          required: true,
        },
      },
      responses: { 200: json(CandidateActionsSchema, 'The actions now in force'), ...authErrors },
    }),
    async (c) => {
      const actions = c.req.valid('json')
      const named = actions.flatMap(({ segment }) => (segment ? [segment] : []))
      const unknown = new Set(await unknownSegments(c.env.DB, named))
      const i = actions.findIndex(({ segment }) => segment !== undefined && unknown.has(segment))
      if (i >= 0) {
        throw new ApiError(
          400,
          'invalid_request',
          `[${i}].segment: no segment ${actions[i]!.segment}`,
        )
      }
      await writeActions(c.env.DB, actions)
      return c.json(actions, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/predictions/actions/{id}/outcomes',
      tags: ['predictions'],
      summary: "Count one outcome of an action taken with a contact (a journey's call)",
      request: {
        params: z.object({ id: z.string().min(1).max(64) }),
        body: { content: { 'application/json': { schema: OutcomeSchema } }, required: true },
      },
      responses: {
        200: json(ArmSchema, "The action's counts after this outcome"),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { contactId, success } = c.req.valid('json')
      const action = (await readActions(c.env.DB)).find((a) => a.id === id)
      if (!action) throw new ApiError(404, 'not_found', `No action ${id}`)
      await existingContact(c.env, contactId)
      const counts = await recordOutcome(c.env.DB, action, success)
      return c.json({ action: id, segment: action.segment ?? ALL_CONTACTS, ...counts }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}/predictions',
      tags: ['predictions'],
      summary: "A contact's engagement, P(alive), expected purchases and value, churn risk",
      description:
        'nextBestAction: one of the candidate actions that apply to the contact, by Thompson ' +
        'sampling over their outcomes, drawn once per contact and UTC day; null with none.',
      request: { params: ContactParam },
      responses: {
        200: json(ContactPredictionsSchema, "Computed now in the contact's object"),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const key = await existingContact(c.env, id)
      const stub = contactStub(c.env, key)
      const [predictions, actions] = await Promise.all([stub.predictions(), readActions(c.env.DB)])
      if (!predictions) throw new ApiError(404, 'not_found', `No contact ${id}`)
      if (actions.length === 0) return c.json(predictions, 200)
      const [outcomes, segments] = await Promise.all([
        readOutcomes(c.env.DB),
        actions.some(({ segment }) => segment !== undefined)
          ? stub.profile().then((result) => (result.found ? result.profile.segments : []))
          : [],
      ])
      const chosen = nextBestAction(actions, { key, segments }, outcomes, new Date())
      return c.json({ ...predictions, nextBestAction: chosen }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}/predictions/explanation',
      tags: ['predictions'],
      summary: "A contact's churn risk explained in plain language",
      description:
        'By Workers AI when the deployment binds it (only the numbers are sent, never who the ' +
        'contact is), otherwise by rules from the same numbers; `source` says which.',
      request: { params: ContactParam },
      responses: {
        200: json(ExplanationSchema, 'The explanation'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const key = await existingContact(c.env, id)
      const stub = contactStub(c.env, key)
      const [predictions, profile, settings] = await Promise.all([
        stub.predictions(),
        stub.profile(),
        readPredictionSettings(c.env.DB),
      ])
      if (!predictions || !profile.found) throw new ApiError(404, 'not_found', `No contact ${id}`)
      const now = new Date()
      const facts = await churnFacts(
        c.env.DB,
        key,
        predictions,
        profile.profile.lastSeen,
        settings,
        now,
      )
      return c.json(await explainChurn(textModel(c.env), facts), 200)
    },
  )
  return app
}
