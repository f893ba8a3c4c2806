import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi'
import { JourneyRunSchema } from '../../contracts/contact-profile'
import { JOURNEY_LIMITS, JourneyDefinitionSchema } from '../../contracts/journey'
import { DurationSchema, Text } from '../../contracts/segment'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { checkNodeMap } from '../../domain/journeys/migrate'
import { PREDICTIONS } from '../../domain/segments/rule'
import { contactStub } from '../../durable/contact-client'
import { existingContact } from '../contacts/existing-contact'
import type { Env } from '../env'
import { ApiError, ErrorSchema } from '../errors'
import { forgetJourneyConfig } from '../journeys/config'
import { decideExperiments, experimentDecisions } from '../journeys/experiments'
import { startFanOut } from '../journeys/fanout'
import { checkGraph } from '../journeys/graph-check'
import { installTemplate } from '../journeys/library'
import { journeyMetrics } from '../journeys/metrics'
import { simulateJourney } from '../journeys/simulation'
import {
  addVersion,
  createJourney,
  getJourney,
  getVersion,
  listJourneys,
  publish,
  rollback,
  setPaused,
  type JourneyDetail,
  type LiveSet,
} from '../journeys/store'
import { PurposesSchema, authErrors, json, notFound } from './common'

/**
 * Journeys (ARCHITECTURE.md "Journeys"): versioned graphs, published whole or as a split of
 * versions, rolled back, paused, their waiting runs moved by a node map, simulated, measured.
 * Versions are immutable; a definition is checked as zod and then as a graph before it is saved
 * (graph-check.ts), and every problem is answered at once. Each change drops this isolate's
 * journey configuration (store.ts does for its writes), so the contact objects it calls see it.
 */

const IdParam = z.object({ id: z.string().min(1).max(100) })
const VersionNumber = z.coerce.number().int().min(1).max(1_000_000)
const ContactParam = z.object({ id: z.string().min(1).max(300) })

const LiveSchema = z
  .array(z.object({ version: z.number().int(), weight: z.number() }))
  .openapi('JourneyLiveSet', {
    description: 'The versions new entrants take, by weight',
    example: [{ version: 2, weight: 1 }],
  })

const Status = z.enum(['draft', 'live', 'paused'])

const JourneySummarySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: Status,
    live: LiveSchema.nullable().openapi({ description: 'null until first published' }),
    latestVersion: z.number().int().nullable().openapi({ description: 'null: no version saved' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('JourneySummary')

const JourneySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    status: Status,
    live: LiveSchema.nullable().openapi({ description: 'null until first published' }),
    versions: z.array(
      z.object({
        version: z.number().int(),
        createdAt: z.string(),
        live: z.boolean(),
        weight: z.number().openapi({ description: 'Its weight in the live set; 0 when not live' }),
      }),
    ),
    history: z
      .array(
        z.object({
          seq: z.number().int(),
          live: LiveSchema,
          action: z.enum(['publish', 'rollback', 'promote', 'pause', 'resume']),
          at: z.string(),
        }),
      )
      .openapi({ description: 'Every publish, promote, rollback, pause and resume, oldest first' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Journey')

const VersionSchema = z
  .object({
    journeyId: z.string(),
    version: z.number().int(),
    definition: JourneyDefinitionSchema,
    createdAt: z.string(),
  })
  .openapi('JourneyVersion')

const CreateJourneySchema = z
  .object({
    name: z.string().trim().min(1).max(JOURNEY_LIMITS.nameChars).openapi({ example: 'Welcome' }),
    template: z.string().min(1).max(100).optional().openapi({
      description: 'A template of the library: its email templates and segments are created',
      example: 'welcome-series',
    }),
  })
  .openapi('CreateJourney')

const SaveVersionSchema = z.object({ definition: JourneyDefinitionSchema }).openapi('SaveVersion')

const PublishSchema = z
  .object({
    version: z.number().int().min(1),
    split: z
      .record(z.string().regex(/^[1-9]\d{0,6}$/, 'a version number'), z.number().gt(0).max(1e6))
      .optional()
      .openapi({
        description: 'Versions new entrants are split between, by weight; `version` among them',
        example: { '2': 50, '3': 50 },
      }),
  })
  .openapi('PublishJourney')

const MigrateSchema = z
  .object({
    from: z.number().int().min(1),
    to: z.number().int().min(1),
    nodeMap: z.record(z.string().min(1).max(64), z.string().min(1).max(64)).openapi({
      description: 'Node of `from` → node of `to` of the same type; runs waiting elsewhere stay',
      example: { wait1: 'wait1' },
    }),
  })
  .openapi('MigrateJourney')

const EnterSchema = z
  .object({
    contactId: z.string().min(1).max(300),
    data: z
      .record(z.string().max(200), z.unknown())
      .optional()
      .openapi({ description: "The run's `data`, in its templates' scope" }),
  })
  .openapi('EnterJourney')

const SimulateSchema = z
  .object({
    version: z.number().int().min(1).optional(),
    definition: JourneyDefinitionSchema.optional().openapi({
      description: 'A draft to simulate instead of a saved version',
    }),
    contact: z.object({
      key: z.string().min(1).max(300).optional(),
      traits: z.record(z.string().max(200), z.unknown()),
      consent: PurposesSchema.optional(),
      timeZone: z.string().max(100).optional(),
      lists: z.array(Text).max(100).optional(),
      predictions: z.partialRecord(z.enum(PREDICTIONS), z.number()).optional(),
    }),
    events: z
      .array(
        z.object({
          event: Text,
          properties: z.record(z.string().max(200), z.unknown()).optional(),
          after: DurationSchema.openapi({ description: 'From the start of the simulation' }),
        }),
      )
      .max(1_000),
    until: DurationSchema,
    data: z.record(z.string().max(200), z.unknown()).optional(),
  })
  .refine((body) => body.version === undefined || body.definition === undefined, {
    message: 'give a version or a definition, not both',
  })
  .openapi('SimulateJourney')

const SimulationSchema = z
  .object({
    entered: z.boolean(),
    reason: z.string().optional().openapi({ description: 'Why the contact never entered' }),
    trace: z.array(
      z.object({
        at: z.string(),
        node: z.string(),
        type: z.string(),
        outcome: z.string(),
        next: z.string().optional(),
      }),
    ),
    effects: z.array(
      z.looseObject({ kind: z.string(), node: z.string(), at: z.string() }).openapi({
        description: 'What each node would have done: email, webhook, ticket, traits, lists, track',
      }),
    ),
    wouldSend: z.array(
      z.object({
        at: z.string(),
        node: z.string(),
        template: z.string(),
        subscriptionGroup: z.string().optional(),
        subject: z.string().optional(),
        html: z.string().optional(),
        text: z.string().optional(),
        error: z.string().optional().openapi({ description: 'Why the email did not render' }),
      }),
    ),
    run: z
      .object({
        state: z.enum(['active', 'completed', 'exited']),
        node: z.string(),
        converted: z.boolean(),
        reason: z.string().nullable(),
        enteredAt: z.string(),
        endedAt: z.string().nullable(),
        wakeAt: z.string().nullable(),
        paths: z.record(z.string(), z.string()),
      })
      .nullable(),
    contact: z.object({
      traits: z.record(z.string(), z.unknown()),
      lists: z.array(z.string()),
    }),
  })
  .openapi('JourneySimulation')

const NodeMetricsSchema = z.object({
  type: z.string(),
  entered: z.number().int(),
  waiting: z.number().int(),
  progressed: z.number().int(),
  exited: z.number().int(),
  converted: z.number().int(),
  messages: z.record(z.string(), z.number().int()).optional(),
})

const MetricsSchema = z
  .object({
    versions: z.array(
      z.object({
        version: z.number().int(),
        live: z.boolean(),
        weight: z.number(),
        entered: z.number().int(),
        active: z.number().int(),
        completed: z.number().int(),
        exited: z.number().int(),
        converted: z.number().int(),
        completionRate: z.number().nullable(),
        conversionRate: z.number().nullable(),
        nodes: z.record(z.string(), NodeMetricsSchema),
      }),
    ),
    experiments: z.array(
      z.object({
        version: z.number().int(),
        node: z.string(),
        winner: z.string().nullable(),
        pValue: z.number().nullable(),
        reason: z.string(),
        test: z.string(),
        paths: z.array(
          z.object({ name: z.string(), entered: z.number().int(), converted: z.number().int() }),
        ),
      }),
    ),
  })
  .openapi('JourneyMetrics')

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
})

const conflict = (description: string) => ({ 409: json(ErrorSchema, description) })

export function journeyRoutes() {
  const app = new OpenAPIHono<{ Bindings: Env }>()

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys',
      tags: ['journeys'],
      summary: 'List journeys with their status, live versions and latest version',
      responses: {
        200: json(z.object({ items: z.array(JourneySummarySchema), cursor: z.null() }), 'All'),
        ...authErrors,
      },
    }),
    async (c) => {
      return c.json({ items: await listJourneys(c.env.DB), cursor: null }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys',
      tags: ['journeys'],
      summary: 'Create a journey, empty or from a template of the library (saved as version 1)',
      request: body(CreateJourneySchema),
      responses: {
        201: json(JourneySchema, 'The new journey, a draft'),
        ...authErrors,
        ...conflict('A journey of that name exists (journey_exists)'),
      },
    }),
    async (c) => {
      const { name, template } = c.req.valid('json')
      // The library's parts are created first: they are reused by a retry, a journey is not.
      const definition = template === undefined ? null : await installTemplate(c.env, template)
      const journey = await createJourney(c.env.DB, { name })
      if (definition) await addVersion(c.env.DB, journey.id, definition)
      forgetJourneyConfig()
      return c.json(await detail(c.env.DB, journey.id), 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/{id}',
      tags: ['journeys'],
      summary: 'A journey: its versions, which are live and with what weight, its publish history',
      request: { params: IdParam },
      responses: { 200: json(JourneySchema, 'The journey'), ...authErrors, ...notFound },
    }),
    async (c) => c.json(await detail(c.env.DB, c.req.valid('param').id), 200),
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/{id}/versions/{version}',
      tags: ['journeys'],
      summary: "A version's definition",
      request: { params: IdParam.extend({ version: VersionNumber }) },
      responses: { 200: json(VersionSchema, 'The version'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id, version } = c.req.valid('param')
      return c.json(await savedVersion(c.env.DB, id, version, 404), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/versions',
      tags: ['journeys'],
      summary: 'Save a definition as the next version, once it is a valid graph',
      description:
        'Answers 400 invalid_journey with every problem in details.issues ({path, message}): ' +
        'an unknown next, an unreachable node, a loop without a wait, a missing template, ' +
        'segment, list or subscription group.',
      request: { params: IdParam, ...body(SaveVersionSchema) },
      responses: {
        201: json(z.object({ version: z.number().int() }), 'The version number'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { definition } = c.req.valid('json')
      await checkGraph(c.env.DB, definition)
      const version = await addVersion(c.env.DB, id, definition)
      return c.json({ version }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/publish',
      tags: ['journeys'],
      summary: 'Make a version live, or split new entrants between versions by weight',
      description:
        'A single version after a split is recorded as a promote. Runs in flight stay on the ' +
        'version they entered.',
      request: { params: IdParam, ...body(PublishSchema) },
      responses: { 200: json(JourneySchema, 'The journey'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { version, split } = c.req.valid('json')
      const live: LiveSet = split
        ? Object.entries(split).map(([v, weight]) => ({ version: Number(v), weight }))
        : [{ version, weight: 1 }]
      if (!live.some((entry) => entry.version === version)) {
        throw new ApiError(
          400,
          'invalid_split',
          `Invalid request: split: version ${version} is not among the versions split`,
          { issues: [{ path: 'split', message: `version ${version} is not among them` }] },
        )
      }
      await publish(c.env.DB, id, live)
      return c.json(await detail(c.env.DB, id), 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/rollback',
      tags: ['journeys'],
      summary: 'Return new entrants to the live set before the current one',
      description: 'Rollbacks in a row walk further back. Runs in flight stay where they are.',
      request: { params: IdParam },
      responses: {
        200: json(JourneySchema, 'The journey'),
        ...authErrors,
        ...notFound,
        ...conflict('No earlier live set (no_previous_version)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      await rollback(c.env.DB, id)
      return c.json(await detail(c.env.DB, id), 200)
    },
  )

  for (const action of ['pause', 'resume'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/journeys/{id}/${action}`,
        tags: ['journeys'],
        summary:
          action === 'pause'
            ? 'Pause a journey: it admits no one and its runs wait'
            : 'Resume a paused journey: it admits contacts again and its waiting runs go on',
        request: { params: IdParam },
        responses: {
          200: json(JourneySchema, 'The journey'),
          ...authErrors,
          ...notFound,
          ...conflict('Never published (not_published)'),
        },
      }),
      async (c) => {
        const { id } = c.req.valid('param')
        const changed = await setPaused(c.env.DB, id, action === 'pause')
        // Runs whose waits ended during the pause are told, wherever their contacts are.
        if (changed && action === 'resume') await startFanOut(c.env, id, { op: 'resume' })
        return c.json(await detail(c.env.DB, id), 200)
      },
    )
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/migrate',
      tags: ['journeys'],
      summary: "Move the active runs of one version to another's nodes by a node map",
      description:
        'Refused with every problem (400 invalid_node_map) when a mapped node does not exist ' +
        'or has another type. Runs are moved in the background.',
      request: { params: IdParam, ...body(MigrateSchema) },
      responses: {
        202: json(
          z.object({ migrating: z.literal(true), from: z.number().int(), to: z.number().int() }),
          'The migration started',
        ),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { from, to, nodeMap } = c.req.valid('json')
      const [source, target] = await Promise.all([
        savedVersion(c.env.DB, id, from, 400),
        savedVersion(c.env.DB, id, to, 400),
      ])
      const problems = checkNodeMap(source.definition, target.definition, nodeMap)
      if (problems.length > 0) {
        const named = problems.map((problem) => `${problem.path}: ${problem.message}`)
        throw new ApiError(400, 'invalid_node_map', `Invalid node map: ${named.join('; ')}`, {
          issues: problems,
        })
      }
      await startFanOut(c.env, id, { op: 'migrate', from, to, nodeMap })
      return c.json({ migrating: true as const, from, to }, 202)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/{id}/metrics',
      tags: ['journeys'],
      summary: 'Per version and node: entered, waiting, progressed, exited, converted; messages',
      description:
        "Counts are exact (the runs and steps contacts' objects reported). Experiments in live " +
        'versions are looked at first: a winner is declared once each path has its minPerPath ' +
        'runs and the difference is significant.',
      request: { params: IdParam },
      responses: { 200: json(MetricsSchema, 'The metrics'), ...authErrors, ...notFound },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      await decideExperiments(c.env, id)
      const [metrics, experiments] = await Promise.all([
        journeyMetrics(c.env.DB, id),
        experimentDecisions(c.env.DB, id),
      ])
      if (!metrics) throw noJourney(id)
      return c.json({ ...metrics, experiments }, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/enter',
      tags: ['journeys'],
      summary: 'Enter a contact into a live journey',
      request: { params: IdParam, ...body(EnterSchema) },
      responses: {
        201: json(z.object({ runId: z.string() }), 'The run started'),
        ...authErrors,
        ...notFound,
        ...conflict('The contact was not entered; the message says why (not_entered)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { contactId, data } = c.req.valid('json')
      if (!(await getJourney(c.env.DB, id))) throw noJourney(id)
      const key = await existingContact(c.env, contactId)
      // A person was put into a journey: the audit row names them, as a preview's does.
      c.set('auditSubject', key)
      const entered = await contactStub(c.env, key).enterJourney(key, id, data ?? {})
      if (!entered.found) throw new ApiError(404, 'not_found', `No contact ${contactId}`)
      if (!entered.runId) {
        const reason = entered.refused ?? 'not entered'
        throw new ApiError(409, 'not_entered', `${contactId} did not enter ${id}: ${reason}`, {
          reason,
        })
      }
      return c.json({ runId: entered.runId }, 201)
    },
  )

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/{id}/simulate',
      tags: ['journeys'],
      summary: 'Run a version or a draft for a made-up contact on a simulated clock',
      description:
        'Events happen `after` their duration from the start; the trace says which node ran, ' +
        'when and why, and each email is rendered as it would have been sent. Nothing is sent ' +
        'or stored. Without version or definition, the latest version runs.',
      request: { params: IdParam, ...body(SimulateSchema) },
      responses: {
        200: json(SimulationSchema, 'The step trace'),
        ...authErrors,
        ...notFound,
        ...conflict('The journey has no version yet and no definition was given (no_version)'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const { version, definition: draft, contact, events, until, data } = c.req.valid('json')
      const journey = await getJourney(c.env.DB, id)
      if (!journey) throw noJourney(id)
      let simulated: { version: number; definition: JourneyDefinition }
      if (draft) {
        await checkGraph(c.env.DB, draft)
        simulated = { version: 0, definition: draft }
      } else {
        const chosen = version ?? journey.versions.at(-1)?.version
        if (chosen === undefined) {
          throw new ApiError(409, 'no_version', `${id} has no version yet; give a definition`)
        }
        simulated = await savedVersion(c.env.DB, id, chosen, 404)
      }
      const result = await simulateJourney(c.env, {
        journeyId: id,
        ...simulated,
        contact,
        events,
        until,
        data,
      })
      return c.json(result, 200)
    },
  )

  app.openapi(
    createRoute({
      method: 'get',
      path: '/contacts/{id}/journeys',
      tags: ['journeys'],
      summary: "A contact's journey runs with their step logs, newest first",
      request: { params: ContactParam },
      responses: {
        200: json(z.object({ runs: z.array(JourneyRunSchema) }), 'The runs'),
        ...authErrors,
        ...notFound,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param')
      const key = await existingContact(c.env, id)
      const runs = await contactStub(c.env, key).journeyRuns()
      if (!runs) throw new ApiError(404, 'not_found', `No contact ${id}`)
      c.set('auditDetail', { returned: runs.length })
      return c.json({ runs }, 200)
    },
  )

  return app
}

function noJourney(id: string) {
  return new ApiError(404, 'not_found', `No journey ${id}`)
}

/** The journey as its routes answer it: each version says whether it is live, and its weight. */
async function detail(db: D1Database, id: string) {
  const journey = await getJourney(db, id)
  if (!journey) throw noJourney(id)
  return withWeights(journey)
}

function withWeights(journey: JourneyDetail) {
  const weights = new Map((journey.live ?? []).map((entry) => [entry.version, entry.weight]))
  const versions = journey.versions.map((v) => ({
    ...v,
    live: weights.has(v.version),
    weight: weights.get(v.version) ?? 0,
  }))
  return { ...journey, versions }
}

/** A saved version; `status` 404 when the version is the resource asked for, 400 when named. */
async function savedVersion(db: D1Database, id: string, version: number, status: 400 | 404) {
  const saved = await getVersion(db, id, version)
  if (saved) return saved
  if (status === 404 && !(await getJourney(db, id))) throw noJourney(id)
  const code = status === 404 ? 'not_found' : 'unknown_version'
  throw new ApiError(status, code, `No version ${version} of ${id}`, { unknown: [version] })
}
