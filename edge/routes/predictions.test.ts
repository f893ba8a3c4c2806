import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { fitBgnbd } from '../../domain/predictions/bgnbd'
import { DEFAULT_PREDICTION_SETTINGS } from '../../domain/predictions/forecast'
import { fitGammaGamma } from '../../domain/predictions/gamma-gamma'
import { simulatePopulation } from '../../domain/predictions/simulate'
import { api, createSource, d1Count, errorOf, eventually, send, uid } from '../../test/support/api'
import { erase } from '../../test/support/privacy'

const DAY_MS = 86_400_000

let writeKey: string
let analyst: string

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Prediction tests' })).writeKey
  const response = await api('/api/keys', {
    method: 'POST',
    json: { name: uid('analyst'), role: 'analyst' },
  })
  analyst = ((await response.json()) as { key: string }).key
})

interface Predictions {
  engagement: number
  pAlive: number | null
  expectedPurchases: { days30: number | null; days90: number | null }
  expectedValue: number | null
  clv: number | null
  churnRisk: number
  lapseRisk: number | null
  nextBestAction: string | null
  fittedAt: string | null
}

async function predictionsOf(key: string): Promise<Predictions> {
  const response = await api(`/api/contacts/${encodeURIComponent(key)}/predictions`)
  expect(response.status).toBe(200)
  return (await response.json()) as Predictions
}

/** Purchases of `user` on each of `daysAgo` (one a day), worth `value` each. */
function purchases(user: string, daysAgo: number[], value: number) {
  return send('/v1/batch', writeKey, {
    batch: daysAgo.map((ago) => ({
      type: 'track',
      userId: user,
      event: 'Order Completed',
      properties: { revenue: value },
      timestamp: new Date(Date.now() - ago * DAY_MS).toISOString(),
    })),
  })
}

describe('prediction settings', () => {
  it('answer the defaults, take a whole valid set, and name what is wrong', async () => {
    expect(await (await api('/api/predictions/settings')).json()).toEqual(
      DEFAULT_PREDICTION_SETTINGS,
    )
    const changed = { ...DEFAULT_PREDICTION_SETTINGS, purchaseEvents: ['Order Completed', 'Paid'] }
    const put = await api('/api/predictions/settings', { method: 'PUT', json: changed })
    expect(put.status).toBe(200)
    expect(await (await api('/api/predictions/settings')).json()).toEqual(changed)

    const wrong = async (patch: Record<string, unknown>, path: string) => {
      const json = { ...DEFAULT_PREDICTION_SETTINGS, ...patch }
      const error = await errorOf(
        await api('/api/predictions/settings', { method: 'PUT', json }),
        400,
        'invalid_request',
      )
      expect(error.message).toContain(path)
    }
    await wrong({ purchaseEvents: [] }, 'purchaseEvents')
    await wrong({ purchaseEvents: ['Paid', 'Paid'] }, 'purchaseEvents')
    await wrong({ valueProperty: 'a"b' }, 'valueProperty')
    await wrong({ clv: { months: 0, discountRate: 0.01 } }, 'clv.months')
    await wrong({ engagementHalfLifeDays: 0 }, 'engagementHalfLifeDays')
    await wrong({ atRiskThreshold: 1.5 }, 'atRiskThreshold')
    await wrong({ extra: 1 }, 'extra')
    await errorOf(
      await api('/api/predictions/settings', { method: 'PUT', json: changed, key: analyst }),
      403,
      'forbidden',
    )
    const reset = { method: 'PUT', json: DEFAULT_PREDICTION_SETTINGS }
    expect((await api('/api/predictions/settings', reset)).status).toBe(200)
  })
})

describe('POST /api/predictions/fit', () => {
  // CDNOW's parameters (weeks), as the domain's recovery test draws them.
  const truth = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 }
  const spend = { p: 6.25, q: 3.74, gamma: 15.44 }

  it('recovers the parameters of simulated customers with the scheduled fit’s code, for an analyst', async () => {
    const population = simulatePopulation({
      customers: 30_000,
      bgnbd: truth,
      gammaGamma: spend,
      ages: { min: 1, max: 78 },
      seed: 25,
    })
    const customers = population.customers.map(({ x, tx, T, m }) =>
      x > 0 ? { x, tx, T, m } : { x, tx, T },
    )
    const response = await api('/api/predictions/fit', {
      method: 'POST',
      json: { customers },
      key: analyst,
    })
    expect(response.status).toBe(200)
    const fitted = (await response.json()) as {
      bgnbd: typeof truth & { logLikelihood: number }
      gammaGamma: typeof spend
    }
    const direct = fitBgnbd(customers)
    expect(fitted.bgnbd).toEqual({ ...direct.params, logLikelihood: direct.logLikelihood })
    expect(fitted.gammaGamma).toEqual(
      fitGammaGamma(customers.flatMap((c) => (c.m && c.m > 0 ? [{ x: c.x, m: c.m }] : []))).params,
    )
    // The standard errors at 30,000 customers are at most about 8% (the domain's recovery test
    // measures under 6% at 50,000): three of them.
    for (const [name, value] of Object.entries(truth)) {
      expect(Math.abs(fitted.bgnbd[name as keyof typeof truth] / value - 1)).toBeLessThan(0.25)
    }
    for (const [name, value] of Object.entries(spend)) {
      expect(Math.abs(fitted.gammaGamma[name as keyof typeof spend] / value - 1)).toBeLessThan(0.5)
    }
  })

  it('leaves the Gamma-Gamma out with fewer than 20 repeat buyers', async () => {
    const customers = [
      { x: 0, tx: 0, T: 10 },
      { x: 2, tx: 5, T: 12, m: 30 },
      { x: 1, tx: 2, T: 9, m: 10 },
      { x: 0, tx: 0, T: 4 },
    ]
    const response = await api('/api/predictions/fit', { method: 'POST', json: { customers } })
    expect(response.status).toBe(200)
    expect(Object.keys((await response.json()) as object)).toEqual(['bgnbd'])
  })

  it('names the bad row', async () => {
    const rows = (bad: Record<string, number>) => [
      { x: 0, tx: 0, T: 10 },
      { x: 1, tx: 3, T: 10, m: 5 },
      { x: 2, tx: 4, T: 10 },
      bad,
    ]
    const fit = (customers: unknown) =>
      api('/api/predictions/fit', { method: 'POST', json: { customers } })
    const cases: [Record<string, number>, string][] = [
      [{ x: 1, tx: 11, T: 10 }, 'customers[3]: tx must be between 0 and T'],
      [{ x: 1.5, tx: 1, T: 10 }, 'customers[3]: x must be a whole number ≥ 0'],
      [{ x: 0, tx: 2, T: 10 }, 'customers[3]: tx must be 0 when x is 0'],
      [{ x: 1, tx: 1, T: 10, m: -4 }, 'customers[3]: m must be a number > 0'],
    ]
    for (const [bad, message] of cases) {
      expect((await errorOf(await fit(rows(bad)), 400, 'invalid_request')).message).toBe(message)
    }
    const missing = await errorOf(await fit([{ x: 1, T: 3 }]), 400, 'invalid_request')
    expect(missing.message).toContain('customers[0].tx')
    await errorOf(await fit([]), 400, 'invalid_request')
    const tooMany = Array.from({ length: 200_001 }, () => ({ x: 0, tx: 0, T: 1 }))
    await errorOf(await fit(tooMany), 400, 'invalid_request')
  })
})

describe('fits over the purchases in D1', () => {
  const buyers: string[] = []

  beforeAll(async () => {
    // Thirty purchasers: first purchases 20 to 310 days ago, 0 to 4 repeat purchases a week
    // apart, worth more the later the customer.
    for (let i = 0; i < 30; i++) {
      const user = uid('buyer')
      const repeats = i % 5
      const first = 20 + 10 * i
      const days = Array.from({ length: repeats + 1 }, (_, k) => first - 7 * k)
      expect((await purchases(user, days, 20 + i)).status).toBe(200)
      buyers.push(user)
    }
    await eventually(
      async () =>
        (await d1Count(
          `SELECT COUNT(DISTINCT contact_key) AS n FROM events
           WHERE contact_key IN (SELECT value FROM json_each(?))`,
          JSON.stringify(buyers),
        )) === buyers.length &&
        (await d1Count(
          'SELECT COUNT(*) AS n FROM contacts WHERE key IN (SELECT value FROM json_each(?))',
          JSON.stringify(buyers),
        )) === buyers.length,
    )
  })

  it('run through the queue on request, then answer the model, the contacts and the at-risk list', async () => {
    await errorOf(await api('/api/predictions/model'), 404, 'not_found')
    const before = await predictionsOf(buyers[3]!)
    expect(before).toMatchObject({
      pAlive: null,
      lapseRisk: null,
      clv: null,
      fittedAt: null,
      nextBestAction: null,
    })
    expect(before.churnRisk).toBeCloseTo(1 - before.engagement / 100, 10)

    await errorOf(
      await api('/api/predictions/refit', { method: 'POST', key: analyst }),
      403,
      'forbidden',
    )
    const refit = await api('/api/predictions/refit', { method: 'POST' })
    expect(refit.status).toBe(202)
    const model = await eventually(async () => {
      const response = await api('/api/predictions/model')
      return response.status === 200
        ? ((await response.json()) as {
            source: string
            customers: number
            fittedAt: string
            logLikelihood: number
            bgnbd: { r: number; a: number; b: number; logLikelihood: number; penalizer: number }
            gammaGamma: { p: number; q: number; gamma: number } | null
          })
        : null
    }, 15_000)
    expect(model.source).toBe('manual')
    expect(model.customers).toBeGreaterThanOrEqual(buyers.length)
    expect(model.logLikelihood).toBe(model.bgnbd.logLikelihood)
    expect(model.gammaGamma).not.toBeNull()
    // Nobody here is seen to drop out (purchases a week apart to the end): the plain fit sends a
    // and b off to infinity, the penalised one does not.
    expect(model.bgnbd).toMatchObject({ converged: true, penalizer: 0.001 })

    // Every purchaser has a row right after the fit.
    await eventually(
      async () =>
        (await d1Count(
          `SELECT COUNT(*) AS n FROM contact_predictions
           WHERE p_alive IS NOT NULL AND lapse_risk > 0
             AND contact_key IN (SELECT value FROM json_each(?))`,
          JSON.stringify(buyers),
        )) === buyers.length,
    )

    // The contact's object follows the new configuration.
    const after = await eventually(async () => {
      const p = await predictionsOf(buyers[3]!)
      return p.fittedAt === model.fittedAt ? p : null
    })
    expect(after.pAlive).toBeGreaterThan(0)
    expect(after.pAlive).toBeLessThanOrEqual(1)
    expect(after.expectedPurchases.days90!).toBeGreaterThan(after.expectedPurchases.days30!)
    expect(after.clv).toBeGreaterThan(0)
    expect(after.expectedValue).toBeGreaterThan(0)
    // Dropping out within 90 days needs being alive now: never more likely than P(alive).
    expect(after.lapseRisk).toBeGreaterThan(0)
    expect(after.lapseRisk!).toBeLessThanOrEqual(after.pAlive!)

    // The at-risk list: risk at or above the threshold, most value at risk first, in pages.
    const seen: {
      contactId: string
      value: number
      churnRisk: number
      lapseRisk: number | null
      clv: number | null
    }[] = []
    let cursor: string | null = null
    do {
      const query: string = cursor ? `&cursor=${cursor}` : ''
      const page = (await (await api(`/api/predictions/at-risk?limit=4${query}`)).json()) as {
        items: typeof seen
        cursor: string | null
      }
      expect(page.items.length).toBeLessThanOrEqual(4)
      seen.push(...page.items)
      cursor = page.cursor
    } while (cursor)
    expect(seen.length).toBeGreaterThan(4)
    expect(new Set(seen.map((s) => s.contactId)).size).toBe(seen.length)
    for (const item of seen) {
      expect(item.churnRisk).toBeGreaterThanOrEqual(DEFAULT_PREDICTION_SETTINGS.atRiskThreshold)
      expect(item.value).toBeCloseTo((item.clv ?? 0) * item.churnRisk, 10)
      // Purchasers carry the fit's lapse risk; contacts who never bought have none.
      expect(item.lapseRisk === null).toBe(item.clv === null)
    }
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!]
      expect(a.value > b.value || (a.value === b.value && a.contactId > b.contactId)).toBe(true)
    }
    const atRisk = await d1Count(
      'SELECT COUNT(*) AS n FROM contact_predictions WHERE churn_risk >= ?',
      DEFAULT_PREDICTION_SETTINGS.atRiskThreshold,
    )
    expect(seen.length).toBe(atRisk)
    await errorOf(await api('/api/predictions/at-risk?cursor=nonsense'), 400, 'invalid_cursor')
  })

  it('lets a segment take the buyers likely to lapse, by the lapse risk each object holds', async () => {
    const risks = new Map<string, number>()
    for (const buyer of buyers) {
      const p = await eventually(async () => {
        const predicted = await predictionsOf(buyer)
        return predicted.lapseRisk === null ? null : predicted
      })
      risks.set(buyer, p.lapseRisk!)
    }
    // Halfway between two neighbouring values, so that no buyer sits on the edge.
    const sorted = [...new Set(risks.values())].sort((a, b) => a - b)
    const middle = Math.floor(sorted.length / 2)
    const value = (sorted[middle - 1]! + sorted[middle]!) / 2
    const likely = buyers.filter((buyer) => risks.get(buyer)! >= value).sort()
    expect(likely.length).toBeGreaterThan(0)
    expect(likely.length).toBeLessThan(buyers.length)

    const response = await api('/api/segments', {
      method: 'POST',
      json: { name: uid('likely to lapse'), rule: { prediction: 'lapseRisk', op: 'gte', value } },
    })
    expect(response.status, await response.clone().text()).toBe(201)
    const { id } = (await response.json()) as { id: string }
    const members = await eventually(async () => {
      const page = (await (await api(`/api/segments/${id}/members?limit=1000`)).json()) as {
        items: { contactKey: string }[]
      }
      const found = page.items.map((m) => m.contactKey).filter((key) => risks.has(key))
      return found.length === likely.length ? found.sort() : null
    })
    expect(members).toEqual(likely)
  })

  it('answers a contact’s predictions after a new purchase: engagement rises, churn risk falls', async () => {
    const user = uid('returning')
    expect((await purchases(user, [200, 150], 40)).status).toBe(200)
    const before = await predictionsOf(user)
    expect((await purchases(user, [0], 40)).status).toBe(200)
    const after = await predictionsOf(user)
    expect(after.engagement).toBeGreaterThan(before.engagement)
    expect(after.churnRisk).toBeLessThan(before.churnRisk)
    const profile = (await (await api(`/api/contacts/${user}`)).json()) as {
      scores: Record<string, number>
    }
    expect(profile.scores.engagement).toBeCloseTo(after.engagement, 1)
    expect(profile.scores.churnRisk).toBeCloseTo(after.churnRisk, 3)
    await errorOf(await api(`/api/contacts/${uid('nobody')}/predictions`), 404, 'not_found')
  })

  it('are forgotten with the person: erasure removes their contact_predictions row', async () => {
    const user = buyers[7]!
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM contact_predictions WHERE contact_key = ?', user),
    ).toBe(1)
    await erase({ userId: user })
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM contact_predictions WHERE contact_key = ?', user),
    ).toBe(0)
    // Another fit writes nobody erased back.
    expect((await api('/api/predictions/refit', { method: 'POST' })).status).toBe(202)
    const first = buyers[8]!
    const stamp = () =>
      env.DB.prepare('SELECT updated_at AS at FROM contact_predictions WHERE contact_key = ?')
        .bind(first)
        .first<{ at: string }>()
    const old = (await stamp())!.at
    await eventually(async () => (await stamp())!.at > old, 15_000)
    expect(
      await d1Count('SELECT COUNT(*) AS n FROM contact_predictions WHERE contact_key = ?', user),
    ).toBe(0)
  })
})
