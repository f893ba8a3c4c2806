import { createModel, signal } from '@preact/signals'
import { allowed } from '../../../edge/access/permissions'
import type { Role } from '../../../edge/access/roles'
import type { JourneyDefinition } from '../../../domain/journeys/definition'
import type { LiveSet, PublishAction } from '../../../domain/journeys/live-sets'
import { api, segment, type ApiError, type ApiList } from './api'
import type { Issue } from './journey-graph'
import type { Simulation, SimulationInput } from './journey-script'
import { request, type Request } from './request'

export type { JourneyDefinition, LiveSet, PublishAction }
export { liveLabel, publishedAt, rollbackTarget } from './journey-history'
export type { Simulation, SimulationInput } from './journey-script'

/**
 * Journeys as the console reads and changes them (`/api/journeys…`, ARCHITECTURE.md
 * "Journeys"): the list with each journey's figures, the template library, and one journey's
 * versions, metrics and actions (publish, split, rollback, pause, resume, migrate, save, simulate).
 */

export type JourneyStatus = 'draft' | 'live' | 'paused'

/** A row of `GET /api/journeys`. */
export interface JourneySummary {
  id: string
  name: string
  status: JourneyStatus
  live: LiveSet | null
  latestVersion: number | null
  createdAt: string
  updatedAt: string
}

/** `GET /api/journeys/:id`. */
export interface Journey {
  id: string
  name: string
  status: JourneyStatus
  live: LiveSet | null
  versions: { version: number; createdAt: string; live: boolean; weight: number }[]
  history: { seq: number; live: LiveSet; action: PublishAction; at: string }[]
  createdAt: string
  updatedAt: string
}

export interface JourneyVersion {
  journeyId: string
  version: number
  definition: JourneyDefinition
  createdAt: string
}

/** `GET /api/journeys/:id/metrics` (experiments are left to the experiment screens). */
import type { JourneyMetrics, VersionMetrics } from '../../../contracts/journey-metrics'

export type {
  JourneyMetrics,
  NodeMetrics,
  VersionMetrics,
} from '../../../contracts/journey-metrics'

/** A template of `GET /api/journey-library`. */
export interface LibraryTemplate {
  id: string
  name: string
  description: string
  definition: JourneyDefinition
  creates: {
    emailTemplates: { id: string; name: string; subject: string; kind: string }[]
    segments: { id: string; name: string }[]
  }
}

/** The problems a 400 named (`details.issues`), each with its path. */
export function issuesOf(error: ApiError | undefined): Issue[] {
  const issues = (error?.details as { issues?: unknown } | undefined)?.issues
  return Array.isArray(issues) ? (issues as Issue[]) : []
}

/** A list row with its versions' figures; null when its metrics did not answer. */
export interface JourneyRow extends JourneySummary {
  metrics: VersionMetrics[] | null
}

/** The live versions' figures summed: what the journey does for new entrants now. */
export function liveFigures(versions: readonly VersionMetrics[]) {
  const live = versions.filter((v) => v.live)
  const sum = (pick: (v: VersionMetrics) => number) => live.reduce((n, v) => n + pick(v), 0)
  const completed = sum((v) => v.completed)
  const ended = completed + sum((v) => v.exited)
  return {
    entered: sum((v) => v.entered),
    converted: sum((v) => v.converted),
    completionRate: ended > 0 ? completed / ended : null,
  }
}

const journeyPath = (id: string, rest = '') => `/journeys/${segment(id)}${rest}`

/** Every journey, each with its metrics (one request per journey: there are tens, not more). */
export const JourneyListModel = createModel(() => {
  const rows = request<JourneyRow[]>('journeys.list')
  return {
    rows,
    load() {
      return rows.run(async () => {
        const { items } = await api<ApiList<JourneySummary>>('/journeys')
        return Promise.all(
          items.map(async (journey) => {
            // One journey's figures failing leaves its row, shown without figures (—).
            const metrics = await api<JourneyMetrics>(journeyPath(journey.id, '/metrics')).catch(
              () => null,
            )
            return { ...journey, metrics: metrics?.versions ?? null }
          }),
        )
      })
    },
  }
})

export const journeyList = new JourneyListModel()

/** The template library and the "New journey" form's request. */
export const JourneyLibraryModel = createModel(() => {
  const templates = request<LibraryTemplate[]>('journeys.library')
  const creating = request<Journey>('journeys.create')
  return {
    templates,
    creating,
    load() {
      if (templates.data.peek()) return Promise.resolve(templates.data.peek())
      return templates.run(
        async () => (await api<{ items: LibraryTemplate[] }>('/journey-library')).items,
      )
    },
    create(name: string, template: string | undefined) {
      return creating.run(() =>
        api<Journey>('/journeys', { method: 'POST', body: { name, template } }),
      )
    },
  }
})

export const journeyLibrary = new JourneyLibraryModel()

/** What the editor's nodes may name: email templates, segments and lists. */
export interface Choices {
  templates: { id: string; name: string }[]
  segments: { id: string; name: string }[]
  lists: { id: string; name: string }[]
}

export const ChoicesModel = createModel(() => {
  const choices = request<Choices>('journeys.choices')
  const names = ({ items }: ApiList<{ id: string; name: string }>) =>
    items.map(({ id, name }) => ({ id, name }))
  return {
    choices,
    load() {
      return choices.run(async () => {
        const [templates, segments, lists] = await Promise.all([
          api<ApiList<{ id: string; name: string }>>('/templates', { query: { limit: 1000 } }),
          api<ApiList<{ id: string; name: string }>>('/segments'),
          api<ApiList<{ id: string; name: string }>>('/lists'),
        ])
        return { templates: names(templates), segments: names(segments), lists: names(lists) }
      })
    },
  }
})

export const journeyChoices = new ChoicesModel()

/** One journey: its detail, metrics, versions (fetched on demand) and every action on it. */
export const JourneyModel = createModel((id: string) => {
  const detail = request<Journey>('journey.detail')
  const metrics = request<JourneyMetrics>('journey.metrics')
  const versions = new Map<number, Request<JourneyVersion>>()
  /** Publish, split, promote, rollback, pause, resume: the journey as it answered. */
  const change = request<Journey>('journey.change')
  const migration = request<{ migrating: true; from: number; to: number }>('journey.migrate')
  const saving = request<{ version: number }>('journey.save')
  const simulation = request<Simulation>('journey.simulate')
  /** Which action `change` is doing or did, for the button that asked. */
  const changing = signal<string | null>(null, { name: 'journey.changing' })

  async function act(name: string, path: string, body?: unknown) {
    changing.value = name
    const journey = await change.run(() =>
      api<Journey>(journeyPath(id, path), { method: 'POST', body }),
    )
    if (journey) {
      detail.set(journey)
      void loadMetrics()
    }
    return journey
  }

  function versionRequest(number: number): Request<JourneyVersion> {
    let version = versions.get(number)
    if (!version) {
      version = request<JourneyVersion>(`journey.version.${number}`)
      versions.set(number, version)
    }
    return version
  }

  function loadMetrics() {
    return metrics.run(() => api<JourneyMetrics>(journeyPath(id, '/metrics')))
  }

  return {
    detail,
    metrics,
    change,
    changing,
    migration,
    saving,
    simulation,
    load() {
      return Promise.all([detail.run(() => api<Journey>(journeyPath(id))), loadMetrics()])
    },
    loadMetrics,
    /** A version's definition as a request; `loadVersion` fills it. */
    version: versionRequest,
    /** Fetches a version once: versions never change. */
    loadVersion(number: number) {
      const version = versionRequest(number)
      if (version.data.peek() || version.loading.peek()) return
      void version.run(() => api<JourneyVersion>(journeyPath(id, `/versions/${number}`)))
    },
    publish(version: number) {
      return act(`publish ${version}`, '/publish', { version })
    },
    /** New entrants split between versions by weight. */
    split(weights: Record<number, number>) {
      const [first] = Object.keys(weights)
      return act('split', '/publish', { version: Number(first), split: weights })
    },
    rollback() {
      return act('rollback', '/rollback')
    },
    pause() {
      return act('pause', '/pause')
    },
    resume() {
      return act('resume', '/resume')
    },
    migrate(from: number, to: number, nodeMap: Record<string, string>) {
      return migration.run(() =>
        api<{ migrating: true; from: number; to: number }>(journeyPath(id, '/migrate'), {
          method: 'POST',
          body: { from, to, nodeMap },
        }),
      )
    },
    async saveVersion(definition: JourneyDefinition) {
      const saved = await saving.run(() =>
        api<{ version: number }>(journeyPath(id, '/versions'), {
          method: 'POST',
          body: { definition },
        }),
      )
      if (saved) void detail.run(() => api<Journey>(journeyPath(id)))
      return saved
    },
    simulate(input: SimulationInput) {
      return simulation.run(
        () => api<Simulation>(journeyPath(id, '/simulate'), { method: 'POST', body: input }),
        { keepData: false },
      )
    },
  }
})

export type JourneyModel = InstanceType<typeof JourneyModel>

let current: { id: string; model: JourneyModel } | undefined

/** The journey the screens show: one model per journey id, kept while moving between its tabs. */
export function journeyModel(id: string): JourneyModel {
  if (current?.id !== id) current = { id, model: new JourneyModel(id) }
  return current.model
}

/** Whether a role may create, save, publish and move journeys (the server's table decides). */
export function mayChangeJourneys(role: Role | undefined): boolean {
  return role !== undefined && allowed('POST /api/journeys', role)
}
