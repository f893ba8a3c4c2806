import { createModel, signal } from '@preact/signals'
import { allowed } from '../../../edge/access/permissions'
import type { Role } from '../../../edge/access/roles'
import type { ContactPredictions, PredictionSettings } from '../../../domain/predictions/forecast'
import type { CandidateAction } from '../../../domain/predictions/next-action'
import { api, asApiError, type ApiError, type ApiList } from './api'
import { pagedList } from './pages'
import { request } from './request'

// Types only: the schemas (and zod) stay out of the console bundle.
export type { CandidateAction, ContactPredictions, PredictionSettings }

/** A row of `GET /api/predictions/at-risk`, ordered by `value` (clv × churnRisk), highest first. */
export interface AtRiskContact {
  contactId: string
  churnRisk: number
  lapseRisk: number | null
  clv: number | null
  value: number
  pAlive: number | null
  engagement: number | null
  updatedAt: string
}

/** `GET /api/predictions/model`: the newest fit of both purchase models. */
export interface PredictionModel {
  id: string
  fittedAt: string
  source: 'scheduled' | 'manual'
  customers: number
  logLikelihood: number
  bgnbd: {
    r: number
    alpha: number
    a: number
    b: number
    logLikelihood: number
    converged: boolean
    penalizer: number
  }
  gammaGamma: {
    p: number
    q: number
    gamma: number
    logLikelihood: number
    converged: boolean
    penalizer: number
    customers: number
  } | null
  settings: PredictionSettings
}

/** `GET /api/contacts/:id/predictions/explanation`. */
export interface ChurnExplanation {
  text: string
  /** 'rules' when Workers AI is not bound (or did not answer). */
  source: 'ai' | 'rules'
}

// Whether the role may ask for a fit, and change the settings: the server's table decides.
export function mayRefit(role: Role | undefined) {
  return role !== undefined && allowed('POST /api/predictions/refit', role)
}

export function mayEditSettings(role: Role | undefined) {
  return role !== undefined && allowed('PUT /api/predictions/settings', role)
}

const PAGE = 50

/** The at-risk list, most value at risk first, paged with the API's cursor. */
export const AtRiskModel = createModel(() => {
  const list = pagedList<AtRiskContact>('predictions.atRisk', (after) =>
    api<ApiList<AtRiskContact>>('/predictions/at-risk', { query: { limit: PAGE, cursor: after } }),
  )
  return {
    items: list.items,
    cursor: list.cursor,
    more: list.more,
    load: list.reload,
    loadMore: list.loadMore,
  }
})

export type AtRiskModel = InstanceType<typeof AtRiskModel>

export const atRisk = new AtRiskModel()

/** Where a requested fit is: asked, waited for, seen, or not seen in time. */
export type RefitState =
  | { step: 'idle' }
  | { step: 'requesting' }
  | { step: 'waiting' }
  | { step: 'done'; fittedAt: string }
  | { step: 'unchanged' }
  | { step: 'failed'; error: ApiError }

/** How often, and how long, the model is read again after a refit is queued. */
export const REFIT_POLL_MS = 1_500
export const REFIT_WAIT_MS = 90_000

/**
 * The newest fit (null before any) and the refit: `POST /api/predictions/refit` only queues it,
 * so the model is read again until its fittedAt moves or REFIT_WAIT_MS pass.
 */
export const FitModel = createModel(() => {
  const model = request<PredictionModel | null>('predictions.model')
  const refit = signal<RefitState>({ step: 'idle' }, { name: 'predictions.refit' })

  function readModel() {
    return api<PredictionModel>('/predictions/model').catch((error: unknown) => {
      const failure = asApiError(error)
      if (failure.status === 404) return null
      throw failure
    })
  }

  async function waitForNewFit(before: string | null) {
    const since = Date.now()
    refit.value = { step: 'waiting' }
    while (Date.now() - since < REFIT_WAIT_MS) {
      await new Promise((resolve) => setTimeout(resolve, REFIT_POLL_MS))
      const latest = await model.run(readModel)
      if (latest && latest.fittedAt !== before) {
        refit.value = { step: 'done', fittedAt: latest.fittedAt }
        return
      }
    }
    refit.value = { step: 'unchanged' }
  }

  return {
    model,
    refit,
    load() {
      return model.run(readModel)
    },
    async requestRefit() {
      const step = refit.peek().step
      if (step === 'requesting' || step === 'waiting') return
      const before = model.data.peek()?.fittedAt ?? null
      refit.value = { step: 'requesting' }
      try {
        await api('/predictions/refit', { method: 'POST' })
      } catch (error) {
        refit.value = { step: 'failed', error: asApiError(error) }
        return
      }
      await waitForNewFit(before)
    },
  }
})

export const fit = new FitModel()

/** The settings in force and their edit; a refused save keeps the API's message. */
export const PredictionSettingsModel = createModel(() => {
  const settings = request<PredictionSettings>('predictions.settings')
  const saving = signal(false, { name: 'predictions.settings.saving' })
  const saveError = signal<ApiError | undefined>(undefined, { name: 'predictions.settings.error' })
  const saved = signal(false, { name: 'predictions.settings.saved' })
  return {
    settings,
    saving,
    saveError,
    saved,
    load() {
      saved.value = false
      return settings.run(() => api<PredictionSettings>('/predictions/settings'))
    },
    async save(next: PredictionSettings) {
      saving.value = true
      saved.value = false
      saveError.value = undefined
      try {
        settings.set(
          await api<PredictionSettings>('/predictions/settings', { method: 'PUT', body: next }),
        )
        saved.value = true
      } catch (error) {
        saveError.value = asApiError(error)
      } finally {
        saving.value = false
      }
    },
  }
})

export const predictionSettings = new PredictionSettingsModel()

/** What next-best-action learned of an action: its outcomes and the goal rate they point to. */
export interface LearnedRate {
  action: string
  successes: number
  failures: number
  rate: number
}

export type ActionRow = CandidateAction & { learned: LearnedRate | undefined }

/** The candidate actions next-best-action chooses from, each with what it has learned. */
export const ActionsModel = createModel(() => {
  const list = request<ActionRow[]>('predictions.actions')
  return {
    list,
    load() {
      return list.run(async () => {
        const [actions, learned] = await Promise.all([
          api<CandidateAction[]>('/predictions/actions'),
          api<LearnedRate[]>('/predictions/actions/outcomes'),
        ])
        return actions.map((a) => ({ ...a, learned: learned.find((l) => l.action === a.id) }))
      })
    },
  }
})

export const candidateActions = new ActionsModel()
