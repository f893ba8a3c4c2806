import { sql, type SQL } from 'drizzle-orm'
import { ALL_MARKETING_GROUP } from '../../contracts/messaging'
import { WITHHELD_CONTACT } from '../../contracts/queue-messages'
import type { Kpi, KpiSettings } from '../../contracts/kpis'
import { DIRECT } from '../../domain/channel'
import {
  anyIn,
  bucket,
  bucketsOf,
  coarsest,
  daysIn,
  grainOf,
  meanOf,
  monthlyRate,
  previousPeriod,
  rate,
  ratio,
  reachableAt,
  sumOver,
  type Bucket,
  type Grain,
  type Period,
} from '../../domain/insights/kpis'
import { readPredictionSettings } from '../../durable/contact-predictions'
import { queryAll } from '../db/raw'

/**
 * The KPIs of `GET /api/insights/kpis`: every figure for the period, the previous period of equal
 * length and each trend bucket, from D1 (attribution credits and conversions, events, consent and
 * message events, predictions, imported spend). The arithmetic is domain/insights/kpis.ts.
 */

type Daily = { day: string; value: number }
type Leads = { day: string; leads: number; converted: number }
type Spend = { day: string; currency: string | null; amount: number }
type Reach = { seen: string; blocked: string | null; contacts: number }
type Ranged = { i: number; opened?: number; customers?: number; churned?: number }
type Mean = { total: number | null; n: number }

/** A tracked event that counts: no bots, no events stored without consent. */
function counted(alias = ''): SQL {
  const a = alias ? `${alias}.` : ''
  return sql.raw(`${a}type = 'track' AND ${a}bot = 0 AND ${a}contact_key != '${WITHHELD_CONTACT}'`)
}
const BLOCKING = sql.raw(`('bounced', 'complained')`)

/** Each stretch of days as `[from, next]` rows of a `r(i, first, next)` table. */
function ranges(list: readonly Bucket[]): SQL {
  const json = JSON.stringify(list.map((b) => [b.from, b.next]))
  return sql`r AS (SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS first,
    json_extract(value, '$[1]') AS next FROM json_each(${json}))`
}

/** Contacts who may get marketing email (as domain/messaging/policy.ts decides), as `c`. */
const REACHABLE = sql`c.merged_into IS NULL AND c.email IS NOT NULL
  AND EXISTS (SELECT 1 FROM contact_consent cc WHERE cc.contact_key = c.key AND cc.marketing = 1)
  AND NOT EXISTS (SELECT 1 FROM contact_subscriptions s WHERE s.contact_key = c.key
    AND s.group_id = ${ALL_MARKETING_GROUP} AND s.subscribed = 0)`

export interface KpiOptions {
  period: Period
  settings: KpiSettings
  /** The attribution model whose credits decide the marketing share. */
  model: string
}

export async function kpiReport(db: D1Database, options: KpiOptions): Promise<Kpi[]> {
  const { period, settings, model } = options
  const previous = previousPeriod(period)
  const grain = grainOf(period)
  const current = bucket(period)
  const before = bucket(previous)
  const trend = bucketsOf(period, grain)
  const spendGrain = coarsest(grain, 'week')
  const spendTrend = bucketsOf(period, spendGrain)
  const months = bucketsOf(period, 'month')
  const whole = { from: previous.from, to: period.to }
  const end = current.next
  const windowDays = `+${settings.conversionWindowDays} days`
  const churnRanges = [current, before, ...months]
  const openRanges = [current, before, ...trend]

  const [
    credited,
    revenue,
    leads,
    firstPurchases,
    spend,
    anySpend,
    reach,
    opens,
    churn,
    risk,
    clv,
  ] = await queryAll<
    [Daily, Daily, Leads, Daily, Spend, { n: number }, Reach, Ranged, Ranged, Mean, Mean]
  >(db, [
    sql`SELECT day, SUM(value) AS value FROM attribution_credits
          WHERE model = ${model} AND channel != ${DIRECT} AND day BETWEEN ${whole.from} AND ${whole.to}
          GROUP BY day`,
    sql`SELECT day, SUM(value) AS value FROM conversions
          WHERE day BETWEEN ${whole.from} AND ${whole.to} GROUP BY day`,
    sql`SELECT substr(l.at, 1, 10) AS day, COUNT(*) AS leads,
            SUM(EXISTS (SELECT 1 FROM events e WHERE e.contact_key = l.contact_key
              AND e.event = ${settings.customerEvent} AND ${counted('e')} AND e.timestamp >= l.at
              AND e.timestamp < strftime('%Y-%m-%dT%H:%M:%fZ', l.at, ${windowDays}))) AS converted
          FROM (SELECT contact_key, MIN(timestamp) AS at FROM events
            WHERE event = ${settings.leadEvent} AND ${counted()} GROUP BY contact_key) AS l
          WHERE l.at >= ${whole.from} AND l.at < ${end} GROUP BY day`,
    sql`SELECT substr(f.at, 1, 10) AS day, COUNT(*) AS value
          FROM (SELECT contact_key, MIN(timestamp) AS at FROM events
            WHERE event = ${settings.customerEvent} AND ${counted()} GROUP BY contact_key) AS f
          WHERE f.at >= ${whole.from} AND f.at < ${end} GROUP BY day`,
    sql`SELECT day, currency, SUM(amount) AS amount FROM marketing_spend
          WHERE day BETWEEN ${whole.from} AND ${whole.to} GROUP BY day, currency`,
    sql`SELECT COUNT(*) AS n FROM marketing_spend`,
    sql`SELECT substr(c.first_seen, 1, 10) AS seen,
            (SELECT substr(MIN(m.at), 1, 10) FROM message_events m
              WHERE m.contact_key = c.key AND m.kind IN ${BLOCKING}) AS blocked,
            COUNT(*) AS contacts
          FROM contacts c WHERE ${REACHABLE} GROUP BY seen, blocked`,
    sql`WITH ${ranges(openRanges)}
          SELECT r.i AS i, COUNT(DISTINCT c.key) AS opened
          FROM r JOIN message_events m ON m.kind = 'opened' AND m.at >= r.first AND m.at < r.next
            JOIN contacts c ON c.key = m.contact_key
          WHERE ${REACHABLE} AND c.first_seen < r.next
            AND NOT EXISTS (SELECT 1 FROM message_events b WHERE b.contact_key = c.key
              AND b.kind IN ${BLOCKING} AND b.at < r.next)
          GROUP BY r.i`,
    settings.churnEvent === null
      ? sql`SELECT NULL AS i WHERE 0`
      : sql`WITH ${ranges(churnRanges)},
            state AS (
              SELECT r.i AS i, r.first AS first, r.next AS next, e.contact_key AS contact_key,
                MAX(CASE WHEN e.event = ${settings.customerEvent} THEN e.timestamp END) AS bought,
                MAX(CASE WHEN e.event = ${settings.churnEvent} THEN e.timestamp END) AS lost
              FROM r JOIN events e ON e.event IN (${settings.customerEvent}, ${settings.churnEvent})
                AND ${counted('e')} AND e.timestamp < r.first
              GROUP BY r.i, e.contact_key)
            SELECT i, COUNT(*) AS customers,
              SUM(EXISTS (SELECT 1 FROM events x WHERE x.contact_key = state.contact_key
                AND x.event = ${settings.churnEvent} AND ${counted('x')}
                AND x.timestamp >= state.first AND x.timestamp < state.next)) AS churned
            FROM state WHERE bought IS NOT NULL AND (lost IS NULL OR lost < bought) GROUP BY i`,
    sql`SELECT SUM(p.churn_risk) AS total, COUNT(*) AS n FROM contact_predictions p
          WHERE p.churn_risk IS NOT NULL AND p.contact_key IN (SELECT contact_key FROM events
            WHERE event = ${settings.customerEvent} AND ${counted()})`,
    sql`SELECT SUM(clv) AS total, COUNT(*) AS n FROM contact_predictions WHERE clv IS NOT NULL`,
  ])
  const prediction = await readPredictionSettings(db)

  const openedIn = (index: number) => opens.find((row) => row.i === index)?.opened ?? 0
  const churnIn = (index: number) => churn.find((row) => row.i === index)
  const ctx: Context = { period, previous, grain, trend, months, spendGrain, spendTrend, settings }

  const ltv = ltvKpi(clv[0], prediction.clv.months)
  const cac = cacKpi(ctx, spend, firstPurchases, anySpend[0]?.n ?? 0)
  return [
    shareKpi(ctx, model, credited, revenue),
    leadKpi(ctx, leads),
    engagementKpi(ctx, reach, openedIn),
    settings.churnEvent === null
      ? predictedChurnKpi(settings, risk[0])
      : churnKpi(ctx, settings.churnEvent, churnIn),
    ltv.kpi,
    cac.kpi,
    ltvCacKpi(ctx, ltv.value, cac),
  ]
}

interface Context {
  period: Period
  previous: Period
  grain: Grain
  trend: Bucket[]
  months: Bucket[]
  /** CAC and LTV:CAC: weeks at the finest, see `coarsest`. */
  spendGrain: Grain
  spendTrend: Bucket[]
  settings: KpiSettings
}

const NO_HISTORY =
  'predictions hold only their latest values, so there is no figure for an earlier period'

function kpi(
  fields: Omit<Kpi, 'currency' | 'previousReason' | 'reason' | 'grain' | 'trend'> &
    Partial<Pick<Kpi, 'currency' | 'previousReason' | 'reason' | 'grain' | 'trend'>>,
): Kpi {
  return {
    currency: null,
    reason: null,
    previousReason: null,
    grain: 'day',
    trend: [],
    ...fields,
  }
}

function shareKpi(ctx: Context, model: string, credited: Daily[], revenue: Daily[]): Kpi {
  const at = (p: Period) => {
    const marketing = sumOver(credited, p, (r) => r.value)
    const whole = sumOver(revenue, p, (r) => r.value)
    return { marketing, whole, value: rate(marketing, whole) }
  }
  const now = at(ctx.period)
  const before = at(ctx.previous)
  const reason = 'no conversion revenue in the period'
  return kpi({
    id: 'marketing_revenue_share',
    label: 'Marketing-attributed revenue',
    definition: `Conversion value credited to marketing channels (every channel but "${DIRECT}") by the ${model} attribution model, divided by the value of all conversions on the period's days.`,
    unit: 'fraction',
    value: now.value,
    reason: now.value === null ? reason : null,
    previous: before.value,
    previousReason: before.value === null ? reason : null,
    inputs: { marketingRevenue: now.marketing, revenue: now.whole },
    grain: ctx.grain,
    trend: ctx.trend.map((b) => ({ from: b.from, to: b.to, value: at(b).value })),
  })
}

function leadKpi(ctx: Context, leads: Leads[]): Kpi {
  const { leadEvent, customerEvent, conversionWindowDays } = ctx.settings
  const at = (p: Period) => {
    const count = sumOver(leads, p, (r) => r.leads)
    const converted = sumOver(leads, p, (r) => r.converted)
    return { count, converted, value: rate(converted, count) }
  }
  const now = at(ctx.period)
  const before = at(ctx.previous)
  const reason = `no new leads ("${leadEvent}" for the first time) in the period`
  return kpi({
    id: 'lead_conversion_rate',
    label: 'Lead → customer conversion',
    definition: `Of the contacts whose first "${leadEvent}" falls in the period, the share who performed "${customerEvent}" within ${conversionWindowDays} days after it.`,
    unit: 'fraction',
    value: now.value,
    reason: now.value === null ? reason : null,
    previous: before.value,
    previousReason: before.value === null ? reason : null,
    inputs: { leads: now.count, converted: now.converted },
    grain: ctx.grain,
    trend: ctx.trend.map((b) => ({ from: b.from, to: b.to, value: at(b).value })),
  })
}

function engagementKpi(ctx: Context, reach: Reach[], openedIn: (index: number) => number): Kpi {
  // openRanges: 0 the period, 1 the previous one, then the trend's buckets.
  const at = (p: Period, index: number) => {
    const reachable = reachableAt(reach, p.to)
    const opened = openedIn(index)
    return { reachable, opened, value: rate(opened, reachable) }
  }
  const now = at(ctx.period, 0)
  const before = at(ctx.previous, 1)
  const reason = 'no reachable contacts (marketing consent granted, an email address, not bounced)'
  return kpi({
    id: 'engagement_rate',
    label: 'Email engagement',
    definition:
      'Reachable contacts who opened an email in the period, divided by the contacts reachable at its end: first seen by then, with an email address and marketing consent granted (consent as it stands today), not unsubscribed from all marketing, and no bounce or complaint by then.',
    unit: 'fraction',
    value: now.value,
    reason: now.value === null ? reason : null,
    previous: before.value,
    previousReason: before.value === null ? reason : null,
    inputs: { opened: now.opened, reachable: now.reachable },
    grain: ctx.grain,
    trend: ctx.trend.map((b, i) => ({ from: b.from, to: b.to, value: at(b, i + 2).value })),
  })
}

function churnKpi(
  ctx: Context,
  churnEvent: string,
  churnIn: (index: number) => Ranged | undefined,
): Kpi {
  const { customerEvent } = ctx.settings
  // churnRanges: 0 the period, 1 the previous one, then its calendar months.
  const at = (p: Period, index: number) => {
    const row = churnIn(index)
    const customers = row?.customers ?? 0
    const churned = row?.churned ?? 0
    return { customers, churned, value: monthlyRate(rate(churned, customers), daysIn(p)) }
  }
  const now = at(ctx.period, 0)
  const before = at(ctx.previous, 1)
  const reason = `no customers at the start of the period (contacts with "${customerEvent}" before it, not lost since)`
  return kpi({
    id: 'churn_rate',
    label: 'Monthly churn',
    definition: `Customers at the start of the period (a "${customerEvent}" before it and no "${churnEvent}" since their latest one) who performed "${churnEvent}" in the period, as a share of them, expressed per 30-day month as 1 − (1 − share)^(30 ÷ days).`,
    unit: 'fraction',
    value: now.value,
    reason: now.value === null ? reason : null,
    previous: before.value,
    previousReason: before.value === null ? reason : null,
    inputs: { customersAtStart: now.customers, churned: now.churned },
    grain: 'month',
    trend: ctx.months.map((b, i) => ({ from: b.from, to: b.to, value: at(b, i + 2).value })),
  })
}

function predictedChurnKpi(settings: KpiSettings, risk: Mean | undefined): Kpi {
  const value = meanOf(risk?.total ?? null, risk?.n ?? 0)
  return kpi({
    id: 'churn_rate',
    label: 'Churn risk (predicted)',
    definition: `Predicted, as no churn event is set: the mean churn risk (0–1, from the predictions) of contacts who ever performed "${settings.customerEvent}". Name a churn event in the KPI settings to measure churn per month instead.`,
    unit: 'fraction',
    value,
    reason:
      value === null
        ? `no predictions for customers ("${settings.customerEvent}") yet; predictions are made as contacts are active and refitted daily`
        : null,
    previous: null,
    previousReason: NO_HISTORY,
    inputs: { customers: risk?.n ?? 0 },
  })
}

function ltvKpi(clv: Mean | undefined, months: number): { kpi: Kpi; value: number | null } {
  const value = meanOf(clv?.total ?? null, clv?.n ?? 0)
  return {
    value,
    kpi: kpi({
      id: 'ltv',
      label: 'Customer lifetime value',
      definition: `The mean predicted customer lifetime value (CLV over the next ${months} months, in the conversion values' currency) of the contacts that have one: purchasers, once the purchase models have been fitted.`,
      unit: 'money',
      value,
      reason:
        value === null
          ? 'no CLV predicted yet: it needs purchases and a fit of the purchase models (POST /api/predictions/refit)'
          : null,
      previous: null,
      previousReason: NO_HISTORY,
      inputs: { contacts: clv?.n ?? 0 },
    }),
  }
}

interface Cac {
  kpi: Kpi
  at: (p: Period) => { value: number | null; reason: string | null }
}

function cacKpi(ctx: Context, spend: Spend[], firstPurchases: Daily[], stored: number): Cac {
  const { customerEvent } = ctx.settings
  const at = (p: Period) => {
    const rows = spend.filter((row) => row.day >= p.from && row.day <= p.to)
    const currencies = [...new Set(rows.map((row) => row.currency))]
    const amount = rows.reduce((sum, row) => sum + row.amount, 0)
    const customers = sumOver(firstPurchases, p, (r) => r.value)
    let reason: string | null = null
    if (stored === 0) reason = 'no spend imported (POST /api/spend)'
    else if (!anyIn(rows, p)) reason = `no spend imported for ${p.from} – ${p.to}`
    else if (currencies.length > 1) {
      reason = `spend is in several currencies (${currencies.map((c) => c ?? 'none').join(', ')}); import it in one`
    } else if (customers === 0)
      reason = `no new customers (a first "${customerEvent}") in the period`
    return {
      amount,
      customers,
      currency: currencies.length === 1 ? currencies[0]! : null,
      reason,
      value: reason === null ? amount / customers : null,
    }
  }
  const now = at(ctx.period)
  const before = at(ctx.previous)
  return {
    at,
    kpi: kpi({
      id: 'cac',
      label: 'Customer acquisition cost',
      definition: `Imported marketing spend on the period's days (every channel) divided by the new customers in it: contacts whose first ever "${customerEvent}" falls in the period.`,
      unit: 'money',
      currency: now.currency,
      value: now.value,
      reason: now.reason,
      previous: before.value,
      previousReason: before.reason,
      inputs: { spend: now.amount, newCustomers: now.customers },
      grain: ctx.spendGrain,
      trend: ctx.spendTrend.map((b) => ({ from: b.from, to: b.to, value: at(b).value })),
    }),
  }
}

function ltvCacKpi(ctx: Context, ltv: number | null, cac: Cac): Kpi {
  const at = (p: Period) => {
    const figure = cac.at(p)
    const missing = [
      ...(figure.value === null ? [`no CAC: ${figure.reason}`] : []),
      ...(figure.value === 0 ? ['CAC is 0 (no spend in the period)'] : []),
      ...(ltv === null ? ['no CLV predicted yet'] : []),
    ]
    if (missing.length > 0) return { value: null, reason: missing.join('; ') }
    return { value: ratio(ltv, figure.value), reason: null }
  }
  const now = at(ctx.period)
  const before = at(ctx.previous)
  return kpi({
    id: 'ltv_cac',
    label: 'LTV : CAC',
    definition:
      "Today's LTV divided by the period's CAC (so the previous period and the trend use today's LTV with their own CAC); it assumes conversion values and spend are in the same currency.",
    unit: 'multiple',
    value: now.value,
    reason: now.reason,
    previous: before.value,
    previousReason: before.reason,
    inputs: { ltv, cac: cac.at(ctx.period).value },
    grain: ctx.spendGrain,
    trend: ctx.spendTrend.map((b) => ({ from: b.from, to: b.to, value: at(b).value })),
  })
}
