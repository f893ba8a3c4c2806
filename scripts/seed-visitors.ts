import type { Random } from '../domain/attribution/random.ts'
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
 * The shop's visitors: most come once, many return over the following days through other
 * channels, and the more often they came the likelier they sign up and buy, on their last visit.
 * Discovery channels (search, social, a blog's link) bring first visits; email and typing the
 * address bring the visitors back. So a converting path such as `organic_social > email >
 * direct` credits social under first touch, direct under last touch and splits it under the
 * others: the attribution models answer differently, as they do on real data.
 */

export interface VisitorPlan {
  /** Anonymous visits, stored first: the sign-up then merges them, touches and all. */
  browsing: Message[]
  /** From the sign-up on, under the user id (empty for visitors who never sign up). */
  account: Message[]
  user: { userId: string; consent: boolean } | null
  visits: number
  orders: number
}

const VISITS: Record<string, number> = { 1: 40, 2: 25, 3: 18, 4: 11, 5: 6 }
/** Chance of signing up on the last visit, by how many visits there were. */
const SIGN_UP = [0, 0.08, 0.3, 0.45, 0.55, 0.6]
const BUYS = 0.55
const CONSENTS = 0.6

const FIRST: ChannelWeights = {
  organic_search: 30,
  paid_search: 20,
  organic_social: 22,
  referral: 15,
  direct: 8,
  email: 5,
}
const MIDDLE: ChannelWeights = {
  email: 30,
  organic_search: 20,
  organic_social: 12,
  paid_search: 12,
  referral: 8,
  direct: 18,
}
const LAST: ChannelWeights = {
  direct: 32,
  email: 30,
  paid_search: 20,
  organic_search: 14,
  organic_social: 4,
}

export function planVisitors(options: {
  count: number
  days: number
  now: number
  origin: string
  random: Random
}): VisitorPlan[] {
  const { count, days, now, origin, random } = options
  return Array.from({ length: count }, (_, v) => planVisitor(v, days, now, origin, random))
}

function planVisitor(v: number, days: number, now: number, origin: string, random: Random) {
  const timeline = new Timeline(`demo-${v}`, origin, random)
  const anonymousId = `demo-anon-${v}`
  // Visit times: the first within the window, each return a few hours to four days later.
  const times = [now - random() * days * DAY_MS]
  const wanted = Number(weighted(VISITS, random))
  while (times.length < wanted) {
    const next = times[times.length - 1]! + (0.2 + random() * 3.8) * DAY_MS
    if (next > now - 30 * MINUTE_MS) break
    times.push(next)
  }
  const signsUp = random() < SIGN_UP[times.length]!
  const plan: VisitorPlan = {
    browsing: [],
    account: [],
    user: null,
    visits: times.length,
    orders: 0,
  }
  times.forEach((start, i) => {
    const position = i === 0 ? FIRST : i === times.length - 1 ? LAST : MIDDLE
    const channel = weighted(position, random)
    const product = pick(PRODUCTS, random)
    let at = start
    const step = () => (at += 15_000 + random() * 90_000)
    timeline.land({ anonymousId }, at, channel)
    if (random() < 0.7) {
      timeline.browse({ anonymousId }, step(), `/demo/product-${product.id}.html`, 'Product')
    }
    if (i < times.length - 1 || !signsUp) return
    plan.browsing = timeline.messages.splice(0)
    const userId = `demo-user-${v}`
    const ids = { userId, anonymousId }
    timeline.browse(ids, step(), '/demo/signup.html', 'Sign up')
    timeline.identify(ids, at, personTraits(v, random, ''))
    timeline.track(ids, at, 'Signed Up')
    plan.user = { userId, consent: random() < CONSENTS }
    if (random() < BUYS) {
      const revenue = Math.round(product.price * (0.8 + random() * 1.6))
      timeline.track(ids, (at += MINUTE_MS), 'Order Completed', orderProperties(product, revenue))
      plan.orders = 1
    }
    plan.account = timeline.messages.splice(0)
  })
  if (!plan.user) plan.browsing = timeline.messages
  return plan
}
