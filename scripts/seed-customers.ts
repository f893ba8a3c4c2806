import type { Random } from '../domain/attribution/random.ts'
import { sampleBeta, sampleExponential, sampleGamma } from '../domain/predictions/sample.ts'
import {
  DAY_MS,
  MINUTE_MS,
  PRODUCTS,
  Timeline,
  orderProperties,
  personTraits,
  pick,
  weighted,
  type ChannelWeights,
  type Message,
} from './seed-shop.ts'

/**
 * The shop's customers over the last six months, for the predictions: each buys at its own
 * rate and, after each repeat purchase, may stop for good, as the BG/NBD model assumes (λ ~
 * Gamma, p ~ Beta); each spends around its own mean. So some buy every few weeks to this day, some
 * bought once and never again, and some bought for months and then lapsed: the fit has signal,
 * and the lapsed are the at-risk list. Each purchase comes with the visit it was made on.
 *
 * Customers are existing accounts (identified, no `Signed Up`), so the welcome series is for
 * the visitors who sign up now; their purchases in the last 30 days reach the attribution
 * report with the channels of those visits.
 */

export interface CustomerPlan {
  userId: string
  consent: boolean
  messages: Message[]
  purchases: number
  /** No purchase in the last 60 days. */
  lapsed: boolean
}

/**
 * The population's parameters: a purchase every ~4 weeks on average, one in four stopping after
 * each repeat purchase: enough spread in both for the plain maximum-likelihood fit to converge
 * (no penalizer), near the truth (r 1.5, α 40 days, a 1, b 3).
 */
const RATE = { shape: 1.5, perDays: 40 }
const DROPOUT = { a: 1, b: 3 }
const MAX_PURCHASES = 12
/** The oldest first purchase (days ago); the youngest is a week old. */
const HISTORY_DAYS = 180
const CONSENTS = 0.7

const FIRST_VISIT: ChannelWeights = {
  organic_search: 35,
  paid_search: 25,
  organic_social: 20,
  referral: 10,
  direct: 10,
}
const RETURN_VISIT: ChannelWeights = {
  email: 40,
  direct: 30,
  organic_search: 20,
  organic_social: 10,
}

export function planCustomers(options: {
  count: number
  now: number
  origin: string
  random: Random
}): CustomerPlan[] {
  const { count, now, origin, random } = options
  return Array.from({ length: count }, (_, i) => planCustomer(i, now, origin, random))
}

function planCustomer(i: number, now: number, origin: string, random: Random): CustomerPlan {
  const userId = `demo-customer-${i}`
  const timeline = new Timeline(`demo-c${i}`, origin, random)
  const rate = sampleGamma(RATE.shape, random) / RATE.perDays
  const dropout = sampleBeta(DROPOUT.a, DROPOUT.b, random)
  const meanSpend = 25 + sampleGamma(2, random) * 35
  const times = [now - (7 + random() * (HISTORY_DAYS - 7)) * DAY_MS]
  // As the BG/NBD has it: the chance to stop comes after each repeat purchase, not the first.
  while (times.length < MAX_PURCHASES) {
    const next = times[times.length - 1]! + sampleExponential(rate, random) * DAY_MS
    if (next > now - 10 * MINUTE_MS) break
    times.push(next)
    if (random() < dropout) break
  }
  const ids = { userId }
  times.forEach((start, n) => {
    const product = pick(PRODUCTS, random)
    let at = start
    timeline.land(ids, at, weighted(n === 0 ? FIRST_VISIT : RETURN_VISIT, random))
    if (n === 0) timeline.identify(ids, (at += MINUTE_MS), personTraits(i, random, 'c'))
    // A first purchase is a look around; a customer coming back knows what to buy.
    if (n === 0) {
      timeline.browse(ids, (at += MINUTE_MS), `/demo/product-${product.id}.html`, 'Product')
    }
    const revenue = Math.max(5, Math.round(meanSpend * (0.6 + random() * 0.8)))
    timeline.track(ids, (at += 3 * MINUTE_MS), 'Order Completed', orderProperties(product, revenue))
  })
  return {
    userId,
    consent: random() < CONSENTS,
    messages: timeline.messages,
    purchases: times.length,
    lapsed: now - times[times.length - 1]! > 60 * DAY_MS,
  }
}
