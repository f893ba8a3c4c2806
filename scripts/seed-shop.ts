import type { Random } from '../domain/attribution/random.ts'

/**
 * The demo shop's vocabulary, shared by the seed's visitors and customers: how each marketing
 * channel arrives (a referrer and landing-page query the channel rules classify), browsers,
 * names, products, and Segment messages as the shop's tracker would send them.
 */

export type Message = Record<string, unknown>

export const DAY_MS = 86_400_000
export const MINUTE_MS = 60_000

/** Each channel's arrival; the comments name what domain/channel.ts classifies it as. */
export const CHANNELS = {
  organic_search: { referrer: 'https://www.google.com/', query: '' },
  paid_search: {
    referrer: 'https://www.google.com/',
    query: '?utm_source=google&utm_medium=cpc&utm_campaign=autumn-sale&gclid=demo',
  },
  email: { referrer: '', query: '?utm_source=newsletter&utm_medium=email&utm_campaign=weekly' },
  organic_social: { referrer: 'https://www.facebook.com/', query: '' },
  referral: { referrer: 'https://outdoor-gear-blog.example/best-boots', query: '' },
  direct: { referrer: '', query: '' },
} as const

export type Channel = keyof typeof CHANNELS
export type ChannelWeights = Partial<Record<Channel, number>>

export const PRODUCTS = [
  { id: 'boots', name: 'Trail boots', price: 129 },
  { id: 'jacket', name: 'Rain jacket', price: 89 },
  { id: 'socks', name: 'Wool socks', price: 19 },
] as const

export type Product = (typeof PRODUCTS)[number]

const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
]

const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Ken',
  'Radia',
  'Tim',
  'Margaret',
  'Leslie',
]

export function pick<T>(list: readonly T[], random: Random): T {
  return list[Math.floor(random() * list.length)]!
}

export function weighted<K extends string>(weights: Partial<Record<K, number>>, random: Random): K {
  const entries = Object.entries(weights) as [K, number][]
  let roll = random() * entries.reduce((sum, [, weight]) => sum + weight, 0)
  for (const [key, weight] of entries) {
    roll -= weight
    if (roll <= 0) return key
  }
  return entries[entries.length - 1]![0]
}

/** Traits a sign-up gives: the library's journey emails greet `firstName`. */
export function personTraits(index: number, random: Random, prefix: string) {
  const firstName = pick(FIRST_NAMES, random)
  return {
    email: `${firstName.toLowerCase()}.${prefix}${index}@example.com`,
    name: firstName,
    firstName,
    plan: random() < 0.3 ? 'pro' : 'free',
  }
}

/**
 * One person's messages in time order, each with a stable messageId (a second seed of the same
 * state stores nothing twice) and the person's browser in its context.
 */
export class Timeline {
  readonly messages: Message[] = []
  /** Messages made so far (the list may have been taken from meanwhile). */
  private made = 0
  private readonly userAgent: string
  private readonly idPrefix: string
  private readonly origin: string

  constructor(idPrefix: string, origin: string, random: Random) {
    this.idPrefix = idPrefix
    this.origin = origin
    this.userAgent = pick(AGENTS, random)
  }

  /** A visit's landing page, arriving through `channel`. */
  land(ids: Ids, at: number, channel: Channel, path = '/demo/', name = 'Home') {
    const { referrer, query } = CHANNELS[channel]
    this.page(ids, at, `${path}${query}`, referrer, name)
  }

  /** A page seen after another of the shop's (a same-site referrer: no new touch). */
  browse(ids: Ids, at: number, path: string, name: string) {
    this.page(ids, at, path, `${this.origin}/demo/`, name)
  }

  identify(ids: Ids & { userId: string }, at: number, traits: Record<string, unknown>) {
    this.push({ type: 'identify', ...ids, traits }, at, '/demo/signup.html')
  }

  track(ids: Ids, at: number, event: string, properties?: Record<string, unknown>) {
    this.push({ type: 'track', ...ids, event, properties }, at, '/demo/checkout.html')
  }

  private page(ids: Ids, at: number, path: string, referrer: string, name: string) {
    this.push({ type: 'page', ...ids, name }, at, path, referrer)
  }

  private push(message: Message, at: number, path: string, referrer = '') {
    this.messages.push({
      ...message,
      timestamp: new Date(at).toISOString(),
      context: {
        userAgent: this.userAgent,
        page: { url: `${this.origin}${path}`, path: path.split('?')[0], referrer },
        locale: 'en-GB',
      },
      messageId: `${this.idPrefix}-${this.made++}`,
    })
  }
}

export interface Ids {
  userId?: string
  anonymousId?: string
}

export function orderProperties(product: Product, revenue: number) {
  return {
    revenue,
    currency: 'EUR',
    products: [{ product_id: product.id, name: product.name, price: revenue }],
  }
}
