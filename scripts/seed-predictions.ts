import { eventually, type DemoApi } from './seed-api.ts'

export interface PredictionsSummary {
  fittedAt: string
  /** Purchasers the fit saw. */
  customers: number
  /** Contacts on the at-risk list (a page of at most AT_RISK_PAGE). */
  atRisk: number
  atRiskThreshold: number
}

interface Model {
  fittedAt: string
  customers: number
}

const AT_RISK_PAGE = 1000
const ATTEMPTS = 5

/**
 * Fits the purchase models now rather than at the next daily fit, so the predictions screen has
 * parameters and an at-risk list at once. The fit runs in the queue consumer over D1's events,
 * which the queue fills a moment after ingestion: a fit that saw fewer purchasers than were sent
 * is made again.
 */
export async function fitPredictions(
  api: DemoApi,
  purchasers: number,
): Promise<PredictionsSummary> {
  let model: Model | undefined
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const before = await newestModel(api)
    await api.post('requesting a predictions fit', '/api/predictions/refit', {})
    model = await eventually('the predictions fit', async () => {
      const newest = await newestModel(api)
      return newest && newest.fittedAt !== before?.fittedAt ? newest : undefined
    })
    if (model.customers >= purchasers) break
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
  const [{ items }, settings] = await Promise.all([
    api.get<{ items: unknown[] }>(
      'listing the contacts at risk',
      `/api/predictions/at-risk?limit=${AT_RISK_PAGE}`,
    ),
    api.get<{ atRiskThreshold: number }>(
      'reading the prediction settings',
      '/api/predictions/settings',
    ),
  ])
  return {
    fittedAt: model!.fittedAt,
    customers: model!.customers,
    atRisk: items.length,
    atRiskThreshold: settings.atRiskThreshold,
  }
}

async function newestModel(api: DemoApi): Promise<Model | undefined> {
  return api.manage<Model | undefined>('reading the predictions model', '/api/predictions/model', {
    allow: [404],
  })
}
