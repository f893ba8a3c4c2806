import { seededRandom } from '../domain/attribution/random.ts'
import { DEMO_SOURCE_NAME } from '../edge/routes/demo.ts'
import { DemoApi, chunks, inPool } from './seed-api.ts'
import {
  demoJourneys,
  demoSegments,
  journeyMetrics,
  type DemoJourney,
  type JourneyMetrics,
} from './seed-automation.ts'
import { planCustomers, type CustomerPlan } from './seed-customers.ts'
import { demoMessages, describeCounts } from './seed-messages.ts'
import { fitPredictions, type PredictionsSummary } from './seed-predictions.ts'
import { PRODUCTS, orderProperties, pick, type Message } from './seed-shop.ts'
import { planVisitors, type VisitorPlan } from './seed-visitors.ts'

export { describeCounts } from './seed-messages.ts'

/**
 * Demo data for a local stack, sent through the public API exactly as real clients would: a
 * source is created (or reused) over the management API, segments and journeys are defined,
 * then through /v1/batch visitors browse a small shop over the last three weeks, returning
 * through other channels before some sign up and buy, and customers buy again and again over
 * six months, some lapsing. Then what happens now: sign-ups activate, carts are filled and some
 * ordered. Last, the attribution and purchase models are fitted, so every screen has numbers.
 */

export interface SeedOptions {
  url: string
  adminKey: string
  visitors?: number
  /** Days over which visitors first arrive (returns follow over the next days). */
  days?: number
  /** Customers with a purchase history (default: two thirds of the visitors). */
  customers?: number
  /**
   * Fit the purchase models (default true). Tests sharing a stack with the predictions' own
   * browser test pass false, with no customers, so no fit of theirs lands in its midst.
   */
  predictions?: boolean
  log?: (line: string) => void
}

export interface SeedResult {
  source: { id: string; name: string; writeKey: string }
  visitors: number
  /** Visits per visitor on average (each a touch for attribution). */
  averageVisits: number
  events: number
  signups: number
  /** Orders of the visitors and of the carts completed now. */
  orders: number
  customers: number
  /** The customers' purchases over six months. */
  purchases: number
  /** Customers with no purchase in the last 60 days. */
  lapsed: number
  /** Demo segments defined (see DEMO_SEGMENTS). */
  segments: number
  /** The live demo journeys with their metrics once seeded. */
  journeys: (DemoJourney & JourneyMetrics)[]
  /** Sign-ups who activated now (the welcome series' goal), carts filled and ordered. */
  activated: number
  carts: { filled: number; ordered: number }
  /** Messages sent to the sign-ups (see demoMessages), by the status each got. */
  messages: Record<string, number>
  /** Null when `predictions: false` asked for none. */
  predictions: PredictionsSummary | null
  /** Conversions per model and channel over the last 30 days (`GET /api/attribution/compare`). */
  attribution: Record<string, Record<string, number>>
}

/** Contacts per ingestion batch, and requests in flight. */
const CONTACTS_PER_BATCH = 10
const IN_FLIGHT = 6
/** Lets the queue carry the last events to D1 before a fit reads them there. */
const QUEUE_SETTLE_MS = 1_500

export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => {})
  const visitors = options.visitors ?? 300
  const days = options.days ?? 21
  const withPredictions = options.predictions ?? true
  const customerCount = withPredictions ? (options.customers ?? Math.round((visitors * 2) / 3)) : 0
  const api = new DemoApi(options.url, options.adminKey)
  const started = Date.now()
  const phase = (text: string) =>
    log(`  ${text}  (${((Date.now() - started) / 1000).toFixed(1)} s)`)

  const source = await demoSource(api)
  await purchaseConversion(api)
  const segments = await demoSegments(api)
  const journeys = await demoJourneys(api)
  phase(`defined ${segments} segments and ${journeys.length} live journeys`)

  const random = seededRandom(42)
  const now = Date.now()
  const origin = options.url
  const visitorPlans = planVisitors({ count: visitors, days, now, origin, random })
  const customerPlans = planCustomers({ count: customerCount, now, origin, random })
  const ingest = ingestion(api, source.writeKey)

  await seedVisitors(api, ingest, visitorPlans)
  const users = visitorPlans.flatMap((p) => (p.user ? [p.user.userId] : []))
  const visitorOrders = visitorPlans.reduce((n, p) => n + p.orders, 0)
  phase(
    `${visitors} visitors, ${averageVisits(visitorPlans).toFixed(1)} visits each on average: ` +
      `${users.length} signed up, ${visitorOrders} bought`,
  )

  // The customers are other contacts than the sign-ups the messages go to: both at once.
  const purchases = customerPlans.reduce((n, c) => n + c.purchases, 0)
  const lapsed = customerPlans.filter((c) => c.lapsed).length
  const [messages] = await Promise.all([
    demoMessages(
      api,
      visitorPlans.flatMap((p) => (p.user ? [p.user] : [])),
    ).then((statuses) => {
      phase(`messages to the sign-ups: ${describeCounts(statuses)}`)
      return statuses
    }),
    seedCustomers(ingest, customerPlans).then(() =>
      phase(`${customerCount} customers, ${purchases} purchases over six months, ${lapsed} lapsed`),
    ),
  ])

  const live = activityNow(users, random)
  await ingest.batches(chunks(live.first, 50))
  await ingest.batches(chunks(live.then, 50))
  phase(
    `now: ${live.activated} sign-ups activated, ${live.carts.filled} carts filled, ` +
      `${live.carts.ordered} of them ordered`,
  )

  await settle()
  await refitAttribution(api)
  const purchasers = new Set([
    ...customerPlans.map((c) => c.userId),
    ...visitorPlans.flatMap((p) => (p.orders > 0 && p.user ? [p.user.userId] : [])),
    ...live.orderedBy,
  ])
  const predictions = withPredictions ? await fitPredictions(api, purchasers.size) : null
  phase(
    predictions
      ? `fitted attribution and predictions (${predictions.customers} customers)`
      : 'fitted attribution',
  )

  return {
    source,
    visitors,
    averageVisits: averageVisits(visitorPlans),
    events: countEvents(visitorPlans, customerPlans) + live.first.length + live.then.length,
    signups: users.length,
    orders: visitorOrders + live.carts.ordered,
    customers: customerCount,
    purchases,
    lapsed,
    segments,
    journeys: await Promise.all(
      journeys.map(async (j) => ({ ...j, ...(await journeyMetrics(api, j.id)) })),
    ),
    activated: live.activated,
    carts: live.carts,
    messages,
    predictions,
    attribution: await compareModels(api),
  }
}

interface Ingestion {
  batches(batches: readonly Message[][]): Promise<void>
  consent(userIds: readonly string[]): Promise<void>
}

function ingestion(api: DemoApi, writeKey: string): Ingestion {
  return {
    batches: (batches) => inPool(batches, IN_FLIGHT, (batch) => api.batch(writeKey, batch)),
    consent: (userIds) => inPool(userIds, IN_FLIGHT, (userId) => api.consent(writeKey, userId)),
  }
}

/**
 * Each visitor's anonymous visits first, then, once they are stored, the sign-ups' messages:
 * the identify merges the visits (and their touches) into the account before its order is
 * credited. In two halves with a fit between: the second half's orders are credited under
 * Markov with fitted removal effects (before any fit, Markov splits like Shapley).
 */
async function seedVisitors(api: DemoApi, ingest: Ingestion, plans: readonly VisitorPlan[]) {
  const middle = Math.ceil(plans.length / 2)
  for (const [i, half] of [plans.slice(0, middle), plans.slice(middle)].entries()) {
    await ingest.batches(chunks(half, CONTACTS_PER_BATCH).map((g) => g.flatMap((p) => p.browsing)))
    // Consent at the sign-up form, so the welcome series' first email may go.
    await ingest.consent(half.flatMap((p) => (p.user?.consent ? [p.user.userId] : [])))
    const signUps = half.filter((p) => p.user)
    await ingest.batches(
      chunks(signUps, CONTACTS_PER_BATCH).map((g) => g.flatMap((p) => p.account)),
    )
    if (i === 0) {
      await settle()
      await refitAttribution(api)
    }
  }
}

/** Consent first, so the win-back may write to the lapsed as their history arrives. */
async function seedCustomers(ingest: Ingestion, plans: readonly CustomerPlan[]) {
  await ingest.consent(plans.flatMap((c) => (c.consent ? [c.userId] : [])))
  await ingest.batches(chunks(plans, CONTACTS_PER_BATCH).map((g) => g.flatMap((c) => c.messages)))
}

function averageVisits(plans: readonly VisitorPlan[]): number {
  return plans.reduce((n, p) => n + p.visits, 0) / Math.max(1, plans.length)
}

function countEvents(visitors: readonly VisitorPlan[], customers: readonly CustomerPlan[]) {
  return (
    visitors.reduce((n, p) => n + p.browsing.length + p.account.length, 0) +
    customers.reduce((n, c) => n + c.messages.length, 0)
  )
}

/** Share of sign-ups who activate now, and who fill a cart now. */
const ACTIVATES = 0.4
const FILLS_CART = 0.35
const ORDERS_CART = 0.5

/**
 * What happens as the seed runs, unstamped so it is dated now: journeys count only what
 * happens after a contact entered (the runs began when the sign-ups arrived, just now). Some
 * sign-ups activate (the welcome series' goal); some fill a cart (entering the abandoned-cart
 * journey) and half of those order in a second request, after the cart's run began, so the
 * journey converts them while the others wait for their reminder.
 */
function activityNow(users: readonly string[], random: () => number) {
  const first: Message[] = []
  const then: Message[] = []
  const orderedBy: string[] = []
  let activated = 0
  for (const userId of users) {
    if (random() < ACTIVATES) {
      first.push({
        type: 'track',
        userId,
        event: 'Activated',
        messageId: `demo-activated-${userId}`,
      })
      activated++
    }
    if (random() >= FILLS_CART) continue
    const product = pick(PRODUCTS, random)
    first.push({
      type: 'track',
      userId,
      event: 'Product Added',
      properties: {
        product_id: product.id,
        name: product.name,
        price: product.price,
        url: `/demo/product-${product.id}.html`,
      },
      messageId: `demo-cart-${userId}`,
    })
    if (random() < ORDERS_CART) {
      then.push({
        type: 'track',
        userId,
        event: 'Order Completed',
        properties: orderProperties(product, product.price),
        messageId: `demo-cart-order-${userId}`,
      })
      orderedBy.push(userId)
    }
  }
  const filled = first.filter((m) => m.event === 'Product Added').length
  return { first, then, orderedBy, activated, carts: { filled, ordered: orderedBy.length } }
}

async function demoSource(api: DemoApi) {
  const { items } = await api.get<{ items: SeedResult['source'][] }>(
    'listing sources',
    '/api/sources',
  )
  const existing = items.find((s) => s.name === DEMO_SOURCE_NAME)
  if (existing) return existing
  return api.post<SeedResult['source']>('creating the demo source', '/api/sources', {
    name: DEMO_SOURCE_NAME,
    consentMode: 'opt-out',
  })
}

/** Orders are the demo's conversion, defined before any event so each is credited live. */
async function purchaseConversion(api: DemoApi) {
  const path = '/api/attribution/conversions'
  const { items } = await api.get<{ items: { eventName: string }[] }>(
    'listing conversion definitions',
    path,
  )
  if (items.some((d) => d.eventName === 'Order Completed')) return
  await api.post('defining the purchase conversion', path, {
    name: 'Purchase',
    eventName: 'Order Completed',
    valueProperty: 'revenue',
  })
}

/** Fits the data-driven models on the seeded journeys, so every attribution view has numbers. */
async function refitAttribution(api: DemoApi) {
  await api.post('refitting attribution', '/api/attribution/refit', {})
}

async function compareModels(api: DemoApi): Promise<SeedResult['attribution']> {
  const { models } = await api.get<{
    models: Record<string, Record<string, { conversions: number }>>
  }>('comparing the attribution models', '/api/attribution/compare')
  return Object.fromEntries(
    Object.entries(models).map(([model, channels]) => [
      model,
      Object.fromEntries(Object.entries(channels).map(([c, credit]) => [c, credit.conversions])),
    ]),
  )
}

function settle() {
  return new Promise((resolve) => setTimeout(resolve, QUEUE_SETTLE_MS))
}
