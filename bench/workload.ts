import { randomUUID } from 'node:crypto'

/**
 * A realistic Segment workload over a fixed population of contacts: browsers sending one
 * message per request (what most trackers send) or a session's worth in one batch, and server
 * SDKs flushing batches that mix many users. Everything but messageIds and clocks is drawn from
 * a seeded generator, so every target of one run receives the same sequence of contacts,
 * pages, events and user agents.
 */

export interface WorkloadOptions {
  contacts: number
  /**
   * Visitors active at once. Returning contacts come in sessions (5-30 events each): a request
   * picks one of the active visitors, and a finished session hands its slot to the next contact
   * of the population. See bench/README.md for why this is bounded.
   */
  activeVisitors: number
  /** Mean events per batch request; sizes vary ±20% around it. */
  batchSize: number
  seed: number
  writeKey: string
}

export interface BenchRequest {
  path: string
  headers: Record<string, string>
  body: string
  events: number
  messageIds: string[]
}

export interface Workload {
  /** One message to `/v1/page`, `/v1/track` or `/v1/identify`. */
  single(): BenchRequest
  /** A `/v1/batch` request: half are one browser session, half a server SDK flush. */
  batch(): BenchRequest
  /**
   * Each contact's first page view, every contact once in a shuffled order, then returning
   * visits (as `single`). The first `contacts` calls create every contact's state.
   */
  firstVisit(): BenchRequest
}

/** Share of contacts with a userId; the rest are anonymous visitors. */
const IDENTIFIED_SHARE = 0.6
/** Share of an identified contact's messages sent before login (anonymousId only). */
const PRE_LOGIN_SHARE = 0.1
/** Share of contacts that are crawlers (stored, flagged as bots, not counted). */
const BOT_SHARE = 0.015
/** Distinct users in one server-SDK batch. */
const SERVER_BATCH_USERS = 10
const SITE = 'https://shop.example'

interface Contact {
  userId?: string
  anonymousId: string
  ip: string
  userAgent: string
  locale: string
  timezone: string
  traits?: Record<string, unknown>
}

type Message = Record<string, unknown> & { messageId: string }

export function createWorkload(options: WorkloadOptions): Workload {
  const random = seeded(options.seed)
  const contacts: Contact[] = []
  for (let i = 0; i < options.contacts; i++)
    contacts.push(makeContact(i, seeded(options.seed * 7919 + i)))
  const auth = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`
  const serverIps = ['34.120.8.17', '34.120.8.18', '35.190.44.2', '35.190.44.3']

  const sessionOrder = shuffled(contacts.length, random)
  let nextSession = 0
  const active: { contact: Contact; left: number }[] = []
  const slots = Math.max(1, Math.min(options.activeVisitors, contacts.length))
  /** A visitor in the middle of a session; `events` of its session are used up. */
  const pickContact = (events = 1): Contact => {
    const slot = Math.floor(random() * slots)
    let visitor = active[slot]
    if (!visitor || visitor.left <= 0) {
      const contact = contacts[sessionOrder[nextSession++ % sessionOrder.length]!]!
      visitor = { contact, left: 5 + Math.floor(random() * 26) }
      active[slot] = visitor
    }
    visitor.left -= events
    return visitor.contact
  }
  const batchLength = () => {
    const spread = Math.max(1, Math.round(options.batchSize * 0.2))
    return Math.max(1, options.batchSize - spread + Math.floor(random() * (2 * spread + 1)))
  }

  function browserHeaders(contact: Contact): Record<string, string> {
    return {
      'content-type': 'text/plain', // analytics.js sends text/plain to skip the CORS preflight
      authorization: auth,
      'user-agent': contact.userAgent,
      origin: SITE,
      'cf-connecting-ip': contact.ip,
    }
  }

  function single(): BenchRequest {
    const contact = pickContact()
    const roll = random()
    const type = roll < 0.5 ? 'page' : roll < 0.9 || !contact.userId ? 'track' : 'identify'
    const message = browserMessage(contact, type, random, Date.now())
    return {
      path: `/v1/${type}`,
      headers: browserHeaders(contact),
      body: JSON.stringify(message),
      events: 1,
      messageIds: [message.messageId],
    }
  }

  function batch(): BenchRequest {
    const length = batchLength()
    const now = Date.now()
    const messages: Message[] = []
    let headers: Record<string, string>
    if (random() < 0.5) {
      // One browser session: the tracker flushing its queue.
      const contact = pickContact(length)
      for (let i = 0; i < length; i++) {
        const type = i === 0 || random() < 0.45 ? 'page' : 'track'
        messages.push(browserMessage(contact, type, random, now - (length - i) * 1500))
      }
      headers = browserHeaders(contact)
    } else {
      // A server SDK flush: events of many users, each carrying its user's IP.
      const users = Array.from({ length: SERVER_BATCH_USERS }, () => pickContact(2))
      for (let i = 0; i < length; i++) {
        messages.push(serverMessage(users[i % users.length]!, random, now))
      }
      headers = {
        'content-type': 'application/json',
        authorization: auth,
        'user-agent': 'analytics-node-next/latest',
        'cf-connecting-ip': serverIps[Math.floor(random() * serverIps.length)]!,
      }
    }
    return {
      path: '/v1/batch',
      headers,
      body: JSON.stringify({ batch: messages, sentAt: new Date(now).toISOString() }),
      events: messages.length,
      messageIds: messages.map((m) => m.messageId),
    }
  }

  const order = shuffled(contacts.length, random)
  let visited = 0

  function firstVisit(): BenchRequest {
    if (visited >= order.length) return single()
    const contact = contacts[order[visited++]!]!
    const message = browserMessage(contact, 'page', random, Date.now())
    return {
      path: '/v1/page',
      headers: browserHeaders(contact),
      body: JSON.stringify(message),
      events: 1,
      messageIds: [message.messageId],
    }
  }

  return { single, batch, firstVisit }
}

function shuffled(n: number, random: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  return order
}

function identity(contact: Contact, random: () => number) {
  if (contact.userId && random() >= PRE_LOGIN_SHARE) {
    return { userId: contact.userId, anonymousId: contact.anonymousId }
  }
  return { anonymousId: contact.anonymousId }
}

function browserMessage(
  contact: Contact,
  type: 'page' | 'track' | 'identify',
  random: () => number,
  at: number,
): Message {
  const page = pick(PAGES, random)
  const referrer = random() < 0.5 ? `${SITE}${pick(PAGES, random).path}` : pick(REFERRERS, random)
  const search = random() < 0.15 ? pick(CAMPAIGNS, random) : ''
  const pageContext = {
    path: page.path,
    referrer,
    search,
    title: page.title,
    url: `${SITE}${page.path}${search}`,
  }
  const base = {
    ...(type === 'identify'
      ? { userId: contact.userId, anonymousId: contact.anonymousId }
      : identity(contact, random)),
    type,
    messageId: `ajs-next-${randomUUID().replaceAll('-', '')}`,
    timestamp: new Date(at - Math.floor(random() * 800)).toISOString(),
    sentAt: new Date(at).toISOString(),
    context: {
      library: { name: 'analytics.js', version: 'npm:next-1.76.0' },
      locale: contact.locale,
      timezone: contact.timezone,
      userAgent: contact.userAgent,
      page: pageContext,
    },
    integrations: {},
  }
  if (type === 'page') return { ...base, name: page.title, properties: pageContext }
  if (type === 'identify') return { ...base, traits: contact.traits ?? {} }
  const product = pick(PRODUCTS, random)
  const event = pick(BROWSER_EVENTS, random)
  return { ...base, event, properties: eventProperties(event, product, random) }
}

function serverMessage(contact: Contact, random: () => number, at: number): Message {
  const base = {
    ...identity(contact, random),
    messageId: `node-next-${randomUUID()}`,
    timestamp: new Date(at - Math.floor(random() * 5000)).toISOString(),
    context: {
      library: { name: '@segment/analytics-node', version: '2.2.1' },
      ip: contact.ip,
      userAgent: contact.userAgent,
    },
    integrations: {},
  }
  if (contact.userId && random() < 0.15) {
    return { ...base, userId: contact.userId, type: 'identify', traits: contact.traits ?? {} }
  }
  const event = pick(SERVER_EVENTS, random)
  return {
    ...base,
    type: 'track',
    event,
    properties: eventProperties(event, pick(PRODUCTS, random), random),
  }
}

function eventProperties(
  event: string,
  product: (typeof PRODUCTS)[number],
  random: () => number,
): Record<string, unknown> {
  const item = {
    product_id: product.id,
    sku: product.sku,
    category: product.category,
    name: product.name,
    price: product.price,
    currency: 'EUR',
  }
  switch (event) {
    case 'Products Searched':
      return { query: pick(SEARCHES, random) }
    case 'Product Added':
    case 'Product Viewed':
      return {
        ...item,
        quantity: 1 + Math.floor(random() * 2),
        position: Math.floor(random() * 24),
      }
    case 'Order Completed':
    case 'Checkout Started': {
      const quantity = 1 + Math.floor(random() * 3)
      return {
        order_id: `ord_${Math.floor(random() * 1e9).toString(36)}`,
        revenue: Math.round(product.price * quantity * 100) / 100,
        shipping: 4.9,
        tax: Math.round(product.price * quantity * 19) / 100,
        currency: 'EUR',
        coupon: random() < 0.2 ? 'BLACKFRIDAY' : undefined,
        products: [{ ...item, quantity }],
      }
    }
    case 'Subscription Renewed':
      return { plan: 'plus', amount: 9.9, currency: 'EUR', interval: 'month' }
    case 'Email Opened':
    case 'Email Link Clicked':
      return {
        campaign_id: 'cmp_2026_11_bf',
        email_subject: 'Black Friday starts now',
        link: `${SITE}/sale`,
      }
    default:
      return { category: product.category }
  }
}

function makeContact(index: number, random: () => number): Contact {
  const bot = random() < BOT_SHARE
  const identified = !bot && random() < IDENTIFIED_SHARE
  const [locale, timezone] = pick(LOCALES, random)
  const contact: Contact = {
    anonymousId: uuid(random),
    ip: `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`,
    userAgent: bot ? pick(BOTS, random) : pick(USER_AGENTS, random),
    locale,
    timezone,
  }
  if (identified) {
    const first = pick(FIRST_NAMES, random)
    const last = pick(LAST_NAMES, random)
    contact.userId = `usr_${(index + 1).toString(36).padStart(5, '0')}${uuid(random).slice(0, 6)}`
    contact.traits = {
      email: `${first}.${last}${index}@example.com`.toLowerCase(),
      firstName: first,
      lastName: last,
      plan: pick(['free', 'plus', 'pro'], random),
      createdAt: new Date(Date.UTC(2025, 0, 1) + Math.floor(random() * 6.9e10)).toISOString(),
      company:
        random() < 0.3
          ? { name: pick(COMPANIES, random), employees: 10 + Math.floor(random() * 990) }
          : undefined,
    }
  }
  return contact
}

function pick<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() * list.length)]!
}

function uuid(random: () => number): string {
  let hex = ''
  for (let i = 0; i < 32; i++) hex += Math.floor(random() * 16).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`
}

/** mulberry32: small, fast, good enough for workload shapes. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
]

const BOTS = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
]

const LOCALES = [
  ['en-US', 'America/New_York'],
  ['en-US', 'America/Los_Angeles'],
  ['en-GB', 'Europe/London'],
  ['de-DE', 'Europe/Berlin'],
  ['fr-FR', 'Europe/Paris'],
  ['nl-NL', 'Europe/Amsterdam'],
  ['es-ES', 'Europe/Madrid'],
  ['pt-BR', 'America/Sao_Paulo'],
  ['ja-JP', 'Asia/Tokyo'],
] as const

const PAGES = [
  { path: '/', title: 'Shop Example — Outdoor gear' },
  { path: '/c/jackets', title: 'Jackets' },
  { path: '/c/backpacks', title: 'Backpacks' },
  { path: '/c/tents', title: 'Tents' },
  { path: '/p/alpine-shell-jacket', title: 'Alpine Shell Jacket' },
  { path: '/p/trail-daypack-22l', title: 'Trail Daypack 22L' },
  { path: '/p/ultralight-tent-2p', title: 'Ultralight Tent 2P' },
  { path: '/p/merino-base-layer', title: 'Merino Base Layer' },
  { path: '/cart', title: 'Your cart' },
  { path: '/checkout', title: 'Checkout' },
  { path: '/blog/how-to-layer-for-winter-hikes', title: 'How to layer for winter hikes' },
  { path: '/pricing', title: 'Membership' },
  { path: '/account', title: 'Your account' },
  { path: '/search', title: 'Search' },
] as const

const REFERRERS = [
  '',
  '',
  'https://www.google.com/',
  'https://www.google.de/',
  'https://www.bing.com/',
  'https://duckduckgo.com/',
  'https://l.facebook.com/',
  'https://t.co/',
  'https://www.instagram.com/',
  'https://news.ycombinator.com/',
  'https://mail.google.com/',
] as const

const CAMPAIGNS = [
  '?utm_source=newsletter&utm_medium=email&utm_campaign=black_friday_2026',
  '?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=Cj0KCQiA3uGqBhDdARIsAFeJ5r0',
  '?utm_source=facebook&utm_medium=paid_social&utm_campaign=winter_jackets&fbclid=IwAR2xQ',
  '?utm_source=partner_blog&utm_medium=referral&utm_campaign=gear_guide',
  '?ref=producthunt',
] as const

const PRODUCTS = [
  { id: 'p_1001', sku: 'ASJ-M-BLU', category: 'Jackets', name: 'Alpine Shell Jacket', price: 249 },
  {
    id: 'p_1002',
    sku: 'TDP-22-GRN',
    category: 'Backpacks',
    name: 'Trail Daypack 22L',
    price: 89.9,
  },
  { id: 'p_1003', sku: 'ULT-2P', category: 'Tents', name: 'Ultralight Tent 2P', price: 399 },
  { id: 'p_1004', sku: 'MBL-W-S', category: 'Base layers', name: 'Merino Base Layer', price: 69 },
  { id: 'p_1005', sku: 'HKS-42', category: 'Footwear', name: 'Hiking Shoe Mid GTX', price: 179.95 },
  { id: 'p_1006', sku: 'HL-400', category: 'Accessories', name: 'Headlamp 400lm', price: 39.5 },
] as const

const BROWSER_EVENTS = [
  'Product Viewed',
  'Product Viewed',
  'Product Added',
  'Products Searched',
  'Checkout Started',
  'Order Completed',
  'Newsletter Subscribed',
  'Video Played',
] as const

const SERVER_EVENTS = [
  'Order Completed',
  'Subscription Renewed',
  'Email Opened',
  'Email Link Clicked',
  'Product Added',
] as const

const SEARCHES = [
  'rain jacket',
  'tent 2 person',
  'merino',
  'hiking boots women',
  'headlamp',
] as const
const FIRST_NAMES = [
  'Ada',
  'Ben',
  'Chloé',
  'Dmitri',
  'Eva',
  'Farah',
  'Gustav',
  'Hana',
  'Ines',
  'Jonas',
] as const
const LAST_NAMES = [
  'Lovelace',
  'Okafor',
  'Martin',
  'Petrov',
  'Schmidt',
  'Haddad',
  'Berg',
  'Sato',
  'Silva',
] as const
const COMPANIES = ['Northwind', 'Globex', 'Initech', 'Umbrella Outdoor', 'Acme Trails'] as const

/**
 * The warm-up before measured runs: contacts of its own (seeded apart from the measured
 * population), so the measured first visits stay first visits.
 */
export function warmUpWorkload(config: { batchSize: number; seed: number }, writeKey: string) {
  return createWorkload({
    contacts: 1000,
    activeVisitors: 200,
    batchSize: config.batchSize,
    seed: config.seed + 1_000_003,
    writeKey,
  })
}
