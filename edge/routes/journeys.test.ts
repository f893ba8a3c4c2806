import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { JOURNEY_TEMPLATES } from '../../domain/journeys/templates'
import { api, createSource, d1Count, errorOf, eventually, send, uid } from '../../test/support/api'

interface Journey {
  id: string
  name: string
  status: 'draft' | 'live' | 'paused'
  live: { version: number; weight: number }[] | null
  versions: { version: number; createdAt: string; live: boolean; weight: number }[]
  history: { seq: number; live: { version: number; weight: number }[]; action: string }[]
}

const run = uid('jrn').toLowerCase()
let writeKey: string
/** An email template of this file's journeys. */
const greeting = `${run}-greeting`

function post(path: string, json: unknown) {
  return api(path, { method: 'POST', json })
}

async function ok<T>(response: Response, status = 200): Promise<T> {
  expect(response.status, await response.clone().text()).toBe(status)
  return (await response.json()) as T
}

async function newJourney(name = uid('journey')) {
  return ok<Journey>(await post('/api/journeys', { name }), 201)
}

async function saveVersion(id: string, definition: unknown) {
  return (
    await ok<{ version: number }>(await post(`/api/journeys/${id}/versions`, { definition }), 201)
  ).version
}

async function journey(id: string) {
  return ok<Journey>(await api(`/api/journeys/${id}`))
}

/** An API-entry journey: greets, waits a day, ends. */
function greetingJourney(wait = { days: 1 }) {
  return {
    entry: { api: true },
    start: 'hello',
    nodes: {
      hello: { type: 'email', template: greeting, next: 'pause' },
      pause: { type: 'wait', for: wait, next: 'done' },
      done: { type: 'exit' },
    },
  }
}

/** A contact the API knows, once its identify has reached its object. */
async function contact(traits: Record<string, unknown> = {}) {
  const userId = uid(`${run}-person`)
  expect((await send('/v1/identify', writeKey, { userId, traits })).status).toBe(200)
  await eventually(async () => (await api(`/api/contacts/${userId}`)).status === 200)
  return userId
}

async function liveJourney(definition: unknown = greetingJourney()) {
  const { id } = await newJourney()
  const version = await saveVersion(id, definition)
  await ok(await post(`/api/journeys/${id}/publish`, { version }))
  return id
}

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Journeys' })).writeKey
  await ok(
    await post('/api/templates', {
      name: greeting,
      subject: 'Hello {{ contact.traits.name }}',
      html: '<p>Hi {{ contact.traits.name }}, your plan is {{ contact.traits.plan }}</p>',
    }),
    201,
  )
}, 30_000)

describe('creating journeys', () => {
  it('creates an empty draft journey with no versions', async () => {
    const name = `${run} Empty`
    const created = await newJourney(name)
    expect(created).toMatchObject({ name, status: 'draft', live: null, versions: [], history: [] })
    const listed = await ok<{ items: { id: string; latestVersion: number | null }[] }>(
      await api('/api/journeys'),
    )
    expect(listed.items.find((j) => j.id === created.id)).toMatchObject({ latestVersion: null })
  })

  for (const [templateId, template] of Object.entries(JOURNEY_TEMPLATES)) {
    it(`creates the ${templateId} template as version 1 with its email templates and segments`, async () => {
      const created = await ok<Journey>(
        await post('/api/journeys', { name: uid(templateId), template: templateId }),
        201,
      )
      expect(created.status).toBe('draft')
      expect(created.versions.map((v) => v.version)).toEqual([1])
      const saved = await ok<{ definition: unknown }>(
        await api(`/api/journeys/${created.id}/versions/1`),
      )
      expect(saved.definition).toEqual(template.definition)
      for (const email of template.emailTemplates) {
        expect((await api(`/api/templates/${email.id}`)).status, email.id).toBe(200)
      }
      for (const segment of template.segments) {
        expect((await api(`/api/segments/${segment.id}`)).status, segment.id).toBe(200)
      }
      // Made again, the library's parts are reused.
      const again = await post('/api/journeys', { name: uid(templateId), template: templateId })
      expect(again.status).toBe(201)
    })
  }

  it('names the known templates when the template is unknown', async () => {
    const error = await errorOf(
      await post('/api/journeys', { name: uid('nope'), template: 'no-such-template' }),
      400,
      'unknown_template',
    )
    for (const id of Object.keys(JOURNEY_TEMPLATES)) expect(error.message).toContain(id)
  })

  it('refuses a second journey of the same name', async () => {
    const name = uid('twice')
    await newJourney(name)
    await errorOf(await post('/api/journeys', { name }), 409, 'journey_exists')
  })
})

describe('saving versions', () => {
  it('numbers versions and answers each definition', async () => {
    const { id } = await newJourney()
    expect(await saveVersion(id, greetingJourney())).toBe(1)
    expect(await saveVersion(id, greetingJourney({ days: 2 }))).toBe(2)
    const second = await ok<{ version: number; definition: unknown }>(
      await api(`/api/journeys/${id}/versions/2`),
    )
    expect(second).toMatchObject({ version: 2, definition: greetingJourney({ days: 2 }) })
    await errorOf(await api(`/api/journeys/${id}/versions/3`), 404, 'not_found')
    const listed = await ok<{ items: { id: string; latestVersion: number | null }[] }>(
      await api('/api/journeys'),
    )
    expect(listed.items.find((j) => j.id === id)?.latestVersion).toBe(2)
  })

  it('refuses a graph with every problem named by its path', async () => {
    const { id } = await newJourney()
    const response = await post(`/api/journeys/${id}/versions`, {
      definition: {
        entry: { api: true },
        start: 'a',
        nodes: {
          a: { type: 'email', template: `${run}-missing-template`, next: 'b' },
          b: {
            type: 'branch',
            cases: [{ rule: { inSegment: `${run}-missing` }, next: 'c' }],
            otherwise: 'nowhere',
          },
          c: { type: 'updateTraits', traits: { seen: true }, next: 'd' },
          d: { type: 'track', event: 'Looped', next: 'c' },
          orphan: { type: 'exit' },
        },
      },
    })
    const error = await errorOf(response, 400, 'invalid_journey')
    const issues = error.details.issues as { path: string; message: string }[]
    const paths = issues.map((issue) => issue.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'nodes.a.template',
        'nodes.b.cases[0].rule.inSegment',
        'nodes.b.otherwise',
        'nodes.orphan',
      ]),
    )
    // The loop c → d → c has no wait: it is named at one of its nodes.
    expect(
      issues.some((issue) => /^nodes\.[cd]/.test(issue.path) && /wait/.test(issue.message)),
    ).toBe(true)
    for (const path of paths) expect(error.message).toContain(path)
    expect((await journey(id)).versions).toEqual([])
  })

  it('answers a definition that does not parse with the path of each issue', async () => {
    const { id } = await newJourney()
    const error = await errorOf(
      await post(`/api/journeys/${id}/versions`, {
        definition: { entry: { api: true }, start: 'a', nodes: { a: { type: 'wait', next: 'b' } } },
      }),
      400,
      'invalid_request',
    )
    expect(error.details.issues).toContainEqual({
      path: 'definition.nodes.a.for',
      message: 'required',
    })
    expect(error.message).toContain('definition.nodes.a.for: required')
  })

  it('answers 404 for a version of no journey', async () => {
    await errorOf(
      await post(`/api/journeys/${run}-nobody/versions`, { definition: greetingJourney() }),
      404,
      'not_found',
    )
  })
})

describe('publishing', () => {
  it('makes a version live, splits, promotes and rolls back step by step', async () => {
    const { id } = await newJourney()
    for (const days of [1, 2, 3]) await saveVersion(id, greetingJourney({ days }))

    await ok(await post(`/api/journeys/${id}/publish`, { version: 1 }))
    let now = await journey(id)
    expect(now).toMatchObject({ status: 'live', live: [{ version: 1, weight: 1 }] })
    expect(now.versions.map((v) => [v.version, v.live, v.weight])).toEqual([
      [1, true, 1],
      [2, false, 0],
      [3, false, 0],
    ])

    await ok(await post(`/api/journeys/${id}/publish`, { version: 2, split: { '2': 30, '3': 70 } }))
    now = await journey(id)
    expect(now.live).toEqual(
      expect.arrayContaining([
        { version: 2, weight: 30 },
        { version: 3, weight: 70 },
      ]),
    )
    expect(now.versions.map((v) => v.weight)).toEqual([0, 30, 70])

    await ok(await post(`/api/journeys/${id}/publish`, { version: 3 }))
    now = await journey(id)
    expect(now.live).toEqual([{ version: 3, weight: 1 }])
    expect(now.history.map((h) => h.action)).toEqual(['publish', 'publish', 'promote'])

    const back = await ok<Journey>(await post(`/api/journeys/${id}/rollback`, {}))
    expect(back.live).toHaveLength(2)
    const first = await ok<Journey>(await post(`/api/journeys/${id}/rollback`, {}))
    expect(first.live).toEqual([{ version: 1, weight: 1 }])
    await errorOf(await post(`/api/journeys/${id}/rollback`, {}), 409, 'no_previous_version')
    expect((await journey(id)).history.map((h) => h.action)).toEqual([
      'publish',
      'publish',
      'promote',
      'rollback',
      'rollback',
    ])
  })

  it('refuses versions that do not exist and a split without the version named', async () => {
    const { id } = await newJourney()
    await saveVersion(id, greetingJourney())
    const unknown = await errorOf(
      await post(`/api/journeys/${id}/publish`, { version: 1, split: { '1': 1, '9': 1 } }),
      400,
      'unknown_version',
    )
    expect(unknown.message).toContain('9')
    await errorOf(await post(`/api/journeys/${id}/publish`, { version: 4 }), 400, 'unknown_version')
    const split = await errorOf(
      await post(`/api/journeys/${id}/publish`, { version: 1, split: { '2': 1 } }),
      400,
      'invalid_split',
    )
    expect(split.message).toContain('split')
    await errorOf(await post(`/api/journeys/${run}-none/publish`, { version: 1 }), 404, 'not_found')
    expect((await journey(id)).status).toBe('draft')
  })

  it('refuses to pause a journey never published', async () => {
    const { id } = await newJourney()
    await errorOf(await post(`/api/journeys/${id}/pause`, {}), 409, 'not_published')
  })
})

describe('entering by API', () => {
  it('starts a run the contact then shows, and a paused journey admits no one', async () => {
    const id = await liveJourney()
    const person = await contact({ name: 'Ada', plan: 'pro' })
    const entered = await ok<{ runId: string }>(
      await post(`/api/journeys/${id}/enter`, { contactId: person, data: { coupon: 'X' } }),
      201,
    )
    const { runs } = await ok<{
      runs: { id: string; journeyId: string; version: number; state: string; node: string }[]
    }>(await api(`/api/contacts/${person}/journeys`))
    expect(runs).toContainEqual(
      expect.objectContaining({
        id: entered.runId,
        journeyId: id,
        version: 1,
        state: 'active',
        node: 'pause',
      }),
    )

    const audited = await env.DB.prepare(
      "SELECT subject_hash FROM audit_log WHERE action = 'POST /api/journeys/{id}/enter' ORDER BY seq DESC LIMIT 1",
    ).first<{ subject_hash: string | null }>()
    expect(audited!.subject_hash).toMatch(/^[0-9a-f]{64}$/)

    const paused = await ok<Journey>(await post(`/api/journeys/${id}/pause`, {}))
    expect(paused.status).toBe('paused')
    const other = await contact()
    const refused = await errorOf(
      await post(`/api/journeys/${id}/enter`, { contactId: other }),
      409,
      'not_entered',
    )
    expect(refused.details.reason).toEqual(expect.any(String))

    const resumed = await ok<Journey>(await post(`/api/journeys/${id}/resume`, {}))
    expect(resumed.status).toBe('live')
    await ok(await post(`/api/journeys/${id}/enter`, { contactId: other }), 201)
  })

  it('answers 404 for an unknown contact or journey', async () => {
    const id = await liveJourney()
    await errorOf(
      await post(`/api/journeys/${id}/enter`, { contactId: `${run}-nobody` }),
      404,
      'not_found',
    )
    const person = await contact()
    await errorOf(
      await post(`/api/journeys/${run}-no-journey/enter`, { contactId: person }),
      404,
      'not_found',
    )
    await errorOf(await api(`/api/contacts/${run}-nobody/journeys`), 404, 'not_found')
  })
})

describe('migrating waiting runs', () => {
  it('refuses a node map naming a node the target lacks, and moves waiting runs by a good one', async () => {
    const id = await liveJourney()
    const person = await contact({ name: 'Mo' })
    await ok(await post(`/api/journeys/${id}/enter`, { contactId: person }), 201)
    // The walk finds contacts by the runs D1 holds, which the queue projects.
    await eventually(
      async () =>
        (await d1Count('SELECT COUNT(*) AS n FROM journey_runs WHERE journey_id = ?', id)) === 1,
    )
    await saveVersion(id, greetingJourney({ days: 5 }))
    const error = await errorOf(
      await post(`/api/journeys/${id}/migrate`, { from: 1, to: 2, nodeMap: { pause: 'ghost' } }),
      400,
      'invalid_node_map',
    )
    expect(error.message).toContain('ghost')
    expect(error.details.issues.length).toBeGreaterThan(0)
    await errorOf(
      await post(`/api/journeys/${id}/migrate`, { from: 1, to: 7, nodeMap: {} }),
      400,
      'unknown_version',
    )
    const started = await ok(
      await post(`/api/journeys/${id}/migrate`, { from: 1, to: 2, nodeMap: { pause: 'pause' } }),
      202,
    )
    expect(started).toEqual({ migrating: true, from: 1, to: 2 })
    await eventually(async () => {
      const { runs } = await ok<{ runs: { journeyId: string; version: number; node: string }[] }>(
        await api(`/api/contacts/${person}/journeys`),
      )
      return runs.some((r) => r.journeyId === id && r.version === 2 && r.node === 'pause')
    }, 20_000)
  })
})

describe('simulating', () => {
  it('answers the trace with the email rendered, and stores no message and no run', async () => {
    const { id } = await newJourney()
    await saveVersion(id, {
      entry: { event: 'Signed Up' },
      start: 'upgrade',
      nodes: {
        upgrade: { type: 'updateTraits', traits: { plan: 'gold' }, next: 'hello' },
        hello: { type: 'email', template: greeting, next: 'pause' },
        pause: { type: 'wait', for: { days: 1 }, next: 'done' },
        done: { type: 'exit' },
      },
    })
    const response = await post(`/api/journeys/${id}/simulate`, {
      contact: { traits: { name: 'Grace', plan: 'free' } },
      events: [{ event: 'Signed Up', after: { hours: 1 } }],
      until: { days: 3 },
    })
    const result = await ok<{
      entered: boolean
      trace: { node: string; at: string }[]
      wouldSend: { node: string; subject: string; html: string; text: string }[]
      run: { state: string }
    }>(response)
    expect(result.entered).toBe(true)
    const visited = result.trace.map((step) => step.node).filter((n, i, all) => n !== all[i - 1])
    expect(visited).toEqual(['upgrade', 'hello', 'pause', 'done'])
    // On the simulated clock: entered an hour in, ended after the day's wait.
    const first = Date.parse(result.trace[0]!.at)
    expect(Date.parse(result.trace.at(-1)!.at) - first).toBe(86_400_000)
    expect(result.wouldSend).toEqual([
      expect.objectContaining({
        node: 'hello',
        subject: 'Hello Grace',
        html: '<p>Hi Grace, your plan is gold</p>',
        text: 'Hi Grace, your plan is gold',
      }),
    ])
    expect(result.run.state).toBe('completed')
    await errorOf(await api('/api/contacts/simulated'), 404, 'not_found')
    expect(await d1Count('SELECT COUNT(*) AS n FROM messages WHERE journey_id = ?', id)).toBe(0)
    expect(await d1Count('SELECT COUNT(*) AS n FROM journey_runs WHERE journey_id = ?', id)).toBe(0)
  })

  it('runs a draft after checking it as a graph, and needs something to run', async () => {
    const { id } = await newJourney()
    await errorOf(
      await post(`/api/journeys/${id}/simulate`, {
        contact: { traits: {} },
        events: [],
        until: { days: 1 },
      }),
      409,
      'no_version',
    )
    const draft = await ok<{ entered: boolean; trace: unknown[] }>(
      await post(`/api/journeys/${id}/simulate`, {
        definition: greetingJourney(),
        contact: { traits: { name: 'Lin' } },
        events: [],
        until: { hours: 1 },
      }),
    )
    expect(draft.entered).toBe(true)
    const bad = await errorOf(
      await post(`/api/journeys/${id}/simulate`, {
        definition: { ...greetingJourney(), start: 'nowhere' },
        contact: { traits: {} },
        events: [],
        until: { days: 1 },
      }),
      400,
      'invalid_journey',
    )
    expect(bad.details.issues.length).toBeGreaterThan(0)
  })
})

describe('metrics', () => {
  it('answers every version with its nodes, and 404 for no journey', async () => {
    const id = await liveJourney()
    const metrics = await ok<{
      versions: { version: number; live: boolean; nodes: Record<string, { type: string }> }[]
      experiments: unknown[]
    }>(await api(`/api/journeys/${id}/metrics`))
    expect(metrics.versions).toEqual([
      expect.objectContaining({
        version: 1,
        live: true,
        nodes: expect.objectContaining({ hello: expect.objectContaining({ type: 'email' }) }),
      }),
    ])
    expect(metrics.experiments).toEqual([])
    await errorOf(await api(`/api/journeys/${run}-none/metrics`), 404, 'not_found')
  })
})

describe('experiments', () => {
  it('are answered with the metrics, undecided while no path has its runs', async () => {
    const id = await liveJourney({
      entry: { api: true },
      start: 'test',
      nodes: {
        test: {
          type: 'experiment',
          paths: [
            { name: 'short', weight: 1, next: 'done' },
            { name: 'long', weight: 1, next: 'done' },
          ],
          minPerPath: 10,
        },
        done: { type: 'exit' },
      },
    })
    const { experiments } = await ok<{ experiments: unknown[] }>(
      await api(`/api/journeys/${id}/metrics`),
    )
    expect(experiments).toEqual([
      expect.objectContaining({
        version: 1,
        node: 'test',
        winner: null,
        paths: [
          { name: 'short', entered: 0, converted: 0 },
          { name: 'long', entered: 0, converted: 0 },
        ],
      }),
    ])
  })
})

describe('the journeys paths', () => {
  it('leave the integrations settings to their own routes', async () => {
    const secret = await ok<{ secret: string }>(await api('/api/journeys/webhook-secret'))
    expect(secret.secret).toMatch(/^whsec_/)
  })
})

describe('bad bodies', () => {
  it('get the one error shape', async () => {
    const { id } = await newJourney()
    await errorOf(await post('/api/journeys', {}), 400, 'invalid_request')
    await errorOf(await post('/api/journeys', { name: 'x'.repeat(101) }), 400, 'invalid_request')
    await errorOf(await post(`/api/journeys/${id}/versions`, {}), 400, 'invalid_request')
    await errorOf(
      await post(`/api/journeys/${id}/publish`, { version: 'one' }),
      400,
      'invalid_request',
    )
    await errorOf(await post(`/api/journeys/${id}/migrate`, { from: 1 }), 400, 'invalid_request')
    await errorOf(await post(`/api/journeys/${id}/enter`, { data: {} }), 400, 'invalid_request')
    await errorOf(
      await post(`/api/journeys/${id}/simulate`, {
        version: 1,
        definition: greetingJourney(),
        contact: { traits: {} },
        events: [],
        until: { days: 1 },
      }),
      400,
      'invalid_request',
    )
    await errorOf(await api(`/api/journeys/${id}/versions/zero`), 400, 'invalid_request')
    const raw = await api(`/api/journeys/${id}/versions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{not json',
    })
    await errorOf(raw, 400, 'invalid_json')
  })
})
