import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_KPI_SETTINGS, type Kpi, type KpiReport } from '../../contracts/kpis'
import { api, errorOf, uid } from '../../test/support/api'

/**
 * Each KPI from rows made by hand in D1, in periods of their own (storage is shared by the
 * tests of this file), with event names of their own set through the settings.
 */

let marketer: string
let analyst: string
let compliance: string

async function keyFor(role: string) {
  const response = await api('/api/keys', { method: 'POST', json: { name: uid(role), role } })
  return ((await response.json()) as { key: string }).key
}

beforeAll(async () => {
  marketer = await keyFor('marketer')
  analyst = await keyFor('analyst')
  compliance = await keyFor('compliance')
})

async function report(from: string, to: string, extra = ''): Promise<KpiReport> {
  const response = await api(`/api/insights/kpis?from=${from}&to=${to}${extra}`)
  expect(response.status).toBe(200)
  return (await response.json()) as KpiReport
}

function kpiOf(body: KpiReport, id: Kpi['id']): Kpi {
  const found = body.kpis.find((kpi) => kpi.id === id)
  if (!found) throw new Error(`no ${id}`)
  return found
}

function trendOf(kpi: Kpi) {
  return Object.fromEntries(kpi.trend.map((point) => [point.from, point.value]))
}

async function settings(patch: Record<string, unknown>) {
  const response = await api('/api/insights/kpis/settings', {
    method: 'PUT',
    json: { ...DEFAULT_KPI_SETTINGS, ...patch },
  })
  expect(response.status).toBe(200)
}

async function run(statements: D1PreparedStatement[]) {
  await env.DB.batch(statements)
}

function event(contact: string, name: string, timestamp: string, bot = false) {
  return env.DB.prepare(
    `INSERT INTO events (id, message_id, contact_key, source_id, type, event, timestamp,
       received_at, day, landing, bot, rolled_up)
     VALUES (?, ?, ?, 'src', 'track', ?, ?, ?, ?, 0, ?, 1)`,
  ).bind(
    uid('e'),
    uid('m'),
    contact,
    name,
    timestamp,
    timestamp,
    timestamp.slice(0, 10),
    bot ? 1 : 0,
  )
}

describe('marketing-attributed revenue share', () => {
  it("is the model's credit to every channel but direct over all conversion value", async () => {
    const conversion = (id: string, day: string, value: number) =>
      env.DB.prepare(
        `INSERT INTO conversions (id, contact_key, definition_id, name, at, day, value,
           deterministic, path) VALUES (?, 'c', 'd', 'Order', ?, ?, ?, 1, '[]')`,
      ).bind(id, `${day}T10:00:00.000Z`, day, value)
    const credit = (id: string, model: string, channel: string, day: string, value: number) =>
      env.DB.prepare(
        `INSERT INTO attribution_credits (conversion_id, model, channel, day, conversions, value)
         VALUES (?, ?, ?, ?, 1, ?)`,
      ).bind(id, model, channel, day, value)
    await run([
      conversion('cv1', '2025-03-02', 100),
      credit('cv1', 'last_non_direct', 'paid_search', '2025-03-02', 100),
      credit('cv1', 'linear', 'paid_search', '2025-03-02', 50),
      credit('cv1', 'linear', 'direct', '2025-03-02', 50),
      conversion('cv2', '2025-03-05', 50),
      credit('cv2', 'last_non_direct', 'direct', '2025-03-05', 50),
      // The previous period (2025-02-19 to 2025-02-28).
      conversion('cv3', '2025-02-20', 40),
      credit('cv3', 'last_non_direct', 'email', '2025-02-20', 30),
      credit('cv3', 'last_non_direct', 'direct', '2025-02-20', 10),
      conversion('cv4', '2025-03-20', 1000),
      credit('cv4', 'last_non_direct', 'email', '2025-03-20', 1000),
    ])
    const body = await report('2025-03-01', '2025-03-10')
    expect(body.previous).toEqual({ from: '2025-02-19', to: '2025-02-28' })
    const share = kpiOf(body, 'marketing_revenue_share')
    expect(share.value).toBeCloseTo(2 / 3, 12)
    expect(share.previous).toBe(0.75)
    expect(share.inputs).toEqual({ marketingRevenue: 100, revenue: 150 })
    expect(share.unit).toBe('fraction')
    expect(share.definition).toContain('last_non_direct')
    expect(share.grain).toBe('day')
    expect(share.trend).toHaveLength(10)
    expect(trendOf(share)).toMatchObject({ '2025-03-01': null, '2025-03-02': 1, '2025-03-05': 0 })

    const linear = kpiOf(
      await report('2025-03-01', '2025-03-10', '&model=linear'),
      'marketing_revenue_share',
    )
    expect(linear.value).toBeCloseTo(1 / 3, 12)

    const empty = kpiOf(await report('2025-01-01', '2025-01-10'), 'marketing_revenue_share')
    expect(empty.value).toBeNull()
    expect(empty.reason).toBe('no conversion revenue in the period')
  })
})

describe('lead → customer conversion rate', () => {
  it('follows new leads to a customer event within the window', async () => {
    const lead = uid('Lead')
    const customer = uid('Customer')
    await settings({ leadEvent: lead, customerEvent: customer })
    await run([
      event('A', lead, '2025-04-02T09:00:00.000Z'),
      event('A', customer, '2025-04-10T09:00:00.000Z'),
      event('B', lead, '2025-04-05T09:00:00.000Z'),
      event('B', customer, '2025-05-20T09:00:00.000Z'), // 45 days on
      event('C', lead, '2025-03-01T09:00:00.000Z'), // a lead before both periods
      event('C', lead, '2025-04-03T09:00:00.000Z'),
      event('C', customer, '2025-04-05T09:00:00.000Z'),
      event('D', lead, '2025-03-10T09:00:00.000Z'), // the previous period
      event('D', customer, '2025-03-12T09:00:00.000Z'),
      event('E', customer, '2025-04-01T09:00:00.000Z'), // bought before becoming a lead
      event('E', lead, '2025-04-02T10:00:00.000Z'),
      event('F', lead, '2025-04-02T09:00:00.000Z', true), // a bot
      event('F', customer, '2025-04-02T10:00:00.000Z', true),
    ])
    const rate = kpiOf(await report('2025-04-01', '2025-04-30'), 'lead_conversion_rate')
    expect(rate.value).toBeCloseTo(1 / 3, 12)
    expect(rate.inputs).toEqual({ leads: 3, converted: 1 })
    expect(rate.previous).toBe(1)
    expect(trendOf(rate)).toMatchObject({ '2025-04-02': 0.5, '2025-04-05': 0, '2025-04-06': null })
    expect(rate.definition).toBe(
      `Of the contacts whose first "${lead}" falls in the period, the share who performed "${customer}" within 30 days after it.`,
    )

    await settings({ leadEvent: lead, customerEvent: customer, conversionWindowDays: 60 })
    const wider = kpiOf(await report('2025-04-01', '2025-04-30'), 'lead_conversion_rate')
    expect(wider.value).toBeCloseTo(2 / 3, 12)

    const none = kpiOf(await report('2025-06-01', '2025-06-30'), 'lead_conversion_rate')
    expect(none.value).toBeNull()
    expect(none.reason).toBe(`no new leads ("${lead}" for the first time) in the period`)
  })
})

describe('engagement rate', () => {
  it('is reachable openers over contacts reachable at the end', async () => {
    const contact = (key: string, firstSeen: string, email: string | null, marketing: boolean) => [
      env.DB.prepare(
        `INSERT INTO contacts (key, user_id, email, anonymous_ids, traits, first_seen, last_seen,
           event_count, version) VALUES (?, ?, ?, '[]', '{}', ?, ?, 1, 1)`,
      ).bind(key, key, email, `${firstSeen}T08:00:00.000Z`, `${firstSeen}T08:00:00.000Z`),
      env.DB.prepare(
        `INSERT INTO contact_consent (contact_key, marketing, updated_at) VALUES (?, ?, ?)`,
      ).bind(key, marketing ? 1 : 0, `${firstSeen}T08:00:00.000Z`),
    ]
    const message = (key: string, kind: string, day: string) =>
      env.DB.prepare(
        `INSERT INTO message_events (id, contact_key, kind, at) VALUES (?, ?, ?, ?)`,
      ).bind(uid('me'), key, kind, `${day}T12:00:00.000Z`)
    await run([
      ...contact('G1', '2025-01-01', 'g1@example.com', true),
      message('G1', 'opened', '2025-05-03'),
      message('G1', 'opened', '2025-05-04'),
      ...contact('G2', '2025-01-01', 'g2@example.com', true),
      ...contact('G3', '2025-01-01', 'g3@example.com', true),
      message('G3', 'opened', '2025-05-10'),
      message('G3', 'bounced', '2025-05-20'),
      ...contact('G4', '2025-01-01', 'g4@example.com', false),
      message('G4', 'opened', '2025-05-04'),
      ...contact('G5', '2025-01-01', null, true),
      ...contact('G6', '2025-01-01', 'g6@example.com', true),
      message('G6', 'opened', '2025-05-04'),
      env.DB.prepare(
        `INSERT INTO contact_subscriptions (contact_key, group_id, subscribed, updated_at)
         VALUES ('G6', 'marketing', 0, '2025-01-02T00:00:00.000Z')`,
      ),
      ...contact('G7', '2025-05-15', 'g7@example.com', true),
      message('G7', 'opened', '2025-05-16'),
      ...contact('G8', '2025-01-01', 'g8@example.com', true),
      message('G8', 'opened', '2025-04-10'),
    ])
    const engagement = kpiOf(await report('2025-05-01', '2025-05-31'), 'engagement_rate')
    expect(engagement.inputs).toEqual({ opened: 2, reachable: 4 })
    expect(engagement.value).toBe(0.5)
    expect(engagement.previous).toBe(0.25)
    expect(trendOf(engagement)).toMatchObject({
      '2025-05-03': 0.25,
      '2025-05-10': 0.25,
      '2025-05-16': 0.2,
      '2025-05-20': 0,
    })
    const before = kpiOf(await report('2024-01-01', '2024-01-31'), 'engagement_rate')
    expect(before.value).toBeNull()
    expect(before.reason).toMatch(/^no reachable contacts/)
  })
})

describe('monthly churn rate', () => {
  it('counts customers at the start who perform the churn event, per month', async () => {
    const customer = uid('Customer')
    const cancelled = uid('Cancelled')
    await settings({ leadEvent: uid('Lead'), customerEvent: customer, churnEvent: cancelled })
    await run([
      event('H1', customer, '2025-01-10T09:00:00.000Z'),
      event('H1', cancelled, '2025-06-15T09:00:00.000Z'),
      event('H2', customer, '2025-02-01T09:00:00.000Z'),
      event('H3', customer, '2025-01-01T09:00:00.000Z'),
      event('H3', cancelled, '2025-03-01T09:00:00.000Z'),
      event('H4', customer, '2025-01-01T09:00:00.000Z'),
      event('H4', cancelled, '2025-03-01T09:00:00.000Z'),
      event('H4', customer, '2025-04-01T09:00:00.000Z'),
      event('H5', customer, '2025-06-10T09:00:00.000Z'),
      event('H5', cancelled, '2025-06-20T09:00:00.000Z'),
      event('H6', customer, '2025-01-01T09:00:00.000Z'),
      event('H6', cancelled, '2025-05-10T09:00:00.000Z'),
    ])
    const churn = kpiOf(await report('2025-06-01', '2025-06-30'), 'churn_rate')
    expect(churn.label).toBe('Monthly churn')
    expect(churn.inputs).toEqual({ customersAtStart: 3, churned: 1 })
    expect(churn.value).toBeCloseTo(1 / 3, 12)
    expect(churn.previous).toBeCloseTo(0.25, 12)
    expect(churn.grain).toBe('month')
    expect(churn.trend).toEqual([{ from: '2025-06-01', to: '2025-06-30', value: churn.value }])

    // Over 60 days, the share (1 of 3) is expressed per 30-day month.
    const longer = kpiOf(await report('2025-06-01', '2025-07-30'), 'churn_rate')
    expect(longer.value).toBeCloseTo(1 - (2 / 3) ** 0.5, 12)
  })
})

describe('predicted churn, LTV, CAC and LTV:CAC', () => {
  it('come from the predictions and, once imported, the spend', async () => {
    const buyer = uid('Buyer')
    await settings({ leadEvent: uid('Lead'), customerEvent: buyer, churnEvent: null })
    const prediction = (key: string, churnRisk: number, clv: number | null) =>
      env.DB.prepare(
        `INSERT INTO contact_predictions (contact_key, churn_risk, clv, updated_at)
         VALUES (?, ?, ?, '2025-07-01T00:00:00.000Z')`,
      ).bind(key, churnRisk, clv)
    await run([
      prediction('P1', 0.2, 100),
      prediction('P2', 0.4, 300),
      prediction('P3', 0.9, null),
      event('P1', buyer, '2025-07-05T09:00:00.000Z'),
      event('P2', buyer, '2025-06-10T09:00:00.000Z'),
      event('P4', buyer, '2025-07-20T09:00:00.000Z'),
      event('P5', buyer, '2025-01-01T09:00:00.000Z'),
      event('P5', buyer, '2025-07-25T09:00:00.000Z'),
    ])
    let body = await report('2025-07-01', '2025-07-31')
    const churn = kpiOf(body, 'churn_rate')
    expect(churn.label).toBe('Churn risk (predicted)')
    expect(churn.value).toBeCloseTo(0.3, 12)
    expect(churn.previous).toBeNull()
    expect(churn.previousReason).toMatch(/latest values/)
    const ltv = kpiOf(body, 'ltv')
    expect(ltv.value).toBe(200)
    expect(ltv.inputs).toEqual({ contacts: 2 })
    expect(ltv.definition).toContain('next 12 months')
    expect(kpiOf(body, 'cac')).toMatchObject({
      value: null,
      reason: 'no spend imported (POST /api/spend)',
      inputs: { spend: 0, newCustomers: 2 },
    })
    expect(kpiOf(body, 'ltv_cac')).toMatchObject({
      value: null,
      reason: 'no CAC: no spend imported (POST /api/spend)',
    })

    const imported = await api('/api/spend', {
      method: 'POST',
      json: {
        rows: [
          { channel: 'paid_search', day: '2025-07-01', amount: 300 },
          { channel: 'email', day: '2025-07-15', amount: 100 },
          { channel: 'paid_search', day: '2025-06-15', amount: 50 },
        ],
      },
    })
    expect(imported.status).toBe(200)
    body = await report('2025-07-01', '2025-07-31')
    const cac = kpiOf(body, 'cac')
    expect(cac).toMatchObject({
      value: 200,
      reason: null,
      previous: 50,
      unit: 'money',
      currency: null,
      inputs: { spend: 400, newCustomers: 2 },
      grain: 'week',
    })
    // Weeks from Monday: spend 300 and P1 in the first, nothing in the second, 100 and P4 next.
    expect(trendOf(cac)).toEqual({
      '2025-07-01': 300,
      '2025-07-07': null,
      '2025-07-14': 100,
      '2025-07-21': null,
      '2025-07-28': null,
    })
    const ratio = kpiOf(body, 'ltv_cac')
    expect(ratio).toMatchObject({ value: 1, previous: 4, unit: 'multiple' })
    expect(trendOf(ratio)).toMatchObject({ '2025-07-01': 200 / 300, '2025-07-14': 2 })

    const elsewhere = kpiOf(await report('2025-09-01', '2025-09-30'), 'cac')
    expect(elsewhere.reason).toBe('no spend imported for 2025-09-01 – 2025-09-30')

    await api('/api/spend', {
      method: 'POST',
      json: { rows: [{ channel: 'email', day: '2025-07-16', amount: 10, currency: 'EUR' }] },
    })
    const mixed = kpiOf(await report('2025-07-01', '2025-07-31'), 'cac')
    expect(mixed.value).toBeNull()
    expect(mixed.reason).toBe('spend is in several currencies (none, EUR); import it in one')
  })
})

describe('KPI settings and access', () => {
  it('answer the defaults, refuse nonsense, and follow the roles', async () => {
    await settings({})
    expect(await (await api('/api/insights/kpis/settings', { key: analyst })).json()).toEqual(
      DEFAULT_KPI_SETTINGS,
    )
    const same = await errorOf(
      await api('/api/insights/kpis/settings', {
        method: 'PUT',
        json: { leadEvent: 'Paid', customerEvent: 'Paid' },
      }),
      400,
      'invalid_request',
    )
    expect(same.message).toContain('customerEvent')
    await errorOf(
      await api('/api/insights/kpis/settings', {
        method: 'PUT',
        json: { ...DEFAULT_KPI_SETTINGS, conversionWindowDays: 0 },
      }),
      400,
      'invalid_request',
    )
    const marketerPut = await api('/api/insights/kpis/settings', {
      method: 'PUT',
      key: marketer,
      json: { leadEvent: 'Trial Started', customerEvent: 'Subscribed' },
    })
    expect(await marketerPut.json()).toEqual({
      leadEvent: 'Trial Started',
      customerEvent: 'Subscribed',
      churnEvent: null,
      conversionWindowDays: 30,
    })
    await errorOf(
      await api('/api/insights/kpis/settings', {
        method: 'PUT',
        key: analyst,
        json: DEFAULT_KPI_SETTINGS,
      }),
      403,
      'forbidden',
    )
    expect((await api('/api/insights/kpis', { key: analyst })).status).toBe(200)
    await errorOf(await api('/api/insights/kpis', { key: compliance }), 403, 'forbidden')
    await errorOf(
      await api('/api/insights/kpis?from=2025-02-02&to=2025-02-01'),
      400,
      'invalid_range',
    )
    await errorOf(
      await api('/api/insights/kpis?from=2020-01-01&to=2025-02-01'),
      400,
      'invalid_range',
    )
  })

  it('default to the 30 days up to today, with every KPI defined', async () => {
    const response = await api('/api/insights/kpis')
    const today = new Date().toISOString().slice(0, 10)
    const answer = (await response.json()) as KpiReport
    expect(answer.to).toBe(today)
    expect(answer.kpis.map((kpi) => kpi.id)).toEqual([
      'marketing_revenue_share',
      'lead_conversion_rate',
      'engagement_rate',
      'churn_rate',
      'ltv',
      'cac',
      'ltv_cac',
    ])
    for (const kpi of answer.kpis) {
      expect(kpi.definition.length).toBeGreaterThan(40)
      if (kpi.value === null) expect(kpi.reason).toBeTruthy()
    }
  })
})
