import { DEMO_SOURCE_NAME } from '../edge/routes/demo.ts'

/**
 * Demo data for a local stack, sent through the public API exactly as real clients would: a
 * source is created (or reused) over the management API, then visitors browse a small shop
 * through /v1/batch over the last two weeks, arriving from search, ads, email and social,
 * some signing up and buying.
 */

export interface SeedOptions {
  url: string
  adminKey: string
  visitors?: number
  days?: number
  log?: (line: string) => void
}

export interface SeedResult {
  source: { id: string; name: string; writeKey: string }
  visitors: number
  events: number
  signups: number
  orders: number
  /** Demo segments defined (see DEMO_SEGMENTS). */
  segments: number
  /** The live demo journey (the library's welcome series), which every sign-up enters. */
  journey: string
  /** Messages asked for (a welcome and a newsletter per sign-up), by the status each got. */
  messages: Record<string, number>
}

const SOURCE_NAME = DEMO_SOURCE_NAME
const PRODUCTS = ['boots', 'jacket']
const ARRIVALS = [
  { weight: 30, referrer: 'https://www.google.com/', query: '' },
  {
    weight: 15,
    referrer: 'https://www.google.com/',
    query: '?utm_source=google&utm_medium=cpc&utm_campaign=autumn-sale&gclid=demo',
  },
  {
    weight: 15,
    referrer: '',
    query: '?utm_source=newsletter&utm_medium=email&utm_campaign=weekly',
  },
  { weight: 12, referrer: 'https://www.facebook.com/', query: '' },
  { weight: 8, referrer: 'https://news.ycombinator.com/', query: '' },
  { weight: 20, referrer: '', query: '' },
]
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
]

export async function seedDemo(options: SeedOptions): Promise<SeedResult> {
  const log = options.log ?? (() => {})
  const visitors = options.visitors ?? 300
  const days = options.days ?? 14
  const source = await demoSource(options.url, options.adminKey)
  await purchaseConversion(options.url, options.adminKey)
  const segments = await demoSegments(options.url, options.adminKey)
  const journey = await demoJourney(options.url, options.adminKey)
  const random = mulberry32(42)
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!
  const now = Date.now()
  const origin = options.url
  let events = 0
  let signups = 0
  let orders = 0
  const users: string[] = []
  const consenting: string[] = []
  const started = Date.now()

  for (let v = 0; v < visitors; v++) {
    const anonymousId = `demo-anon-${v}`
    const userAgent = pick(AGENTS)
    const arrival = weighted(ARRIVALS, random)
    let at = now - random() * days * 86_400_000
    const messages: Record<string, unknown>[] = []
    const context = (path: string, referrer: string) => ({
      userAgent,
      page: { url: `${origin}${path}`, path: path.split('?')[0], referrer },
      locale: 'en-GB',
    })
    const page = (path: string, referrer: string, name: string) => {
      messages.push({
        type: 'page',
        anonymousId,
        name,
        timestamp: new Date(at).toISOString(),
        context: context(path, referrer),
        messageId: `demo-${v}-${messages.length}`,
      })
      at += 15_000 + random() * 90_000
    }
    page(`/demo/${arrival.query}`, arrival.referrer, 'Home')
    const product = pick(PRODUCTS)
    if (random() < 0.7) page(`/demo/product-${product}.html`, `${origin}/demo/`, 'Product')
    if (random() < 0.35) {
      const userId = `demo-user-${v}`
      const name = pick(FIRST_NAMES)
      page('/demo/signup.html', `${origin}/demo/`, 'Sign up')
      messages.push({
        type: 'identify',
        userId,
        anonymousId,
        traits: {
          email: `${name.toLowerCase()}.${v}@example.com`,
          name,
          plan: random() < 0.3 ? 'pro' : 'free',
        },
        timestamp: new Date(at).toISOString(),
        context: context('/demo/signup.html', ''),
        messageId: `demo-${v}-${messages.length}`,
      })
      messages.push({
        type: 'track',
        userId,
        anonymousId,
        event: 'Signed Up',
        timestamp: new Date(at).toISOString(),
        context: context('/demo/signup.html', ''),
        messageId: `demo-${v}-${messages.length}`,
      })
      signups++
      users.push(userId)
      // Most agree to marketing at sign-up; the rest's newsletters are recorded as no_consent.
      if (random() < 0.6) consenting.push(userId)
      if (random() < 0.5) {
        at += 60_000
        const revenue = Math.round(20 + random() * 180)
        messages.push({
          type: 'track',
          userId,
          anonymousId,
          event: 'Order Completed',
          properties: { revenue, currency: 'EUR', products: [{ id: product, price: revenue }] },
          timestamp: new Date(at).toISOString(),
          context: context('/demo/checkout.html', ''),
          messageId: `demo-${v}-${messages.length}`,
        })
        orders++
      }
    }
    await sendBatch(options.url, source.writeKey, messages)
    for (const userId of consenting.splice(0)) {
      await recordConsent(options.url, source.writeKey, userId)
    }
    events += messages.length
    if ((v + 1) % 50 === 0 || v + 1 === visitors) {
      log(
        `  seeded ${v + 1}/${visitors} visitors, ${events} events (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      )
    }
  }
  const sent = await demoMessages(options.url, options.adminKey, users)
  log(`  messages: ${describeCounts(sent)}`)
  return { source, visitors, events, signups, orders, segments, journey, messages: sent }
}

export function describeCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ')
}

async function recordConsent(url: string, writeKey: string, userId: string) {
  const response = await fetch(`${url}/v1/consent`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa(`${writeKey}:`)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      userId,
      purposes: { analytics: true, marketing: true, personalization: true, advertising: false },
      policyVersion: 'demo-1',
      source: 'signup form',
    }),
  })
  if (!response.ok) throw new Error(`recording consent failed: ${response.status}`)
}

/** In the order they are saved: a snippet may render only snippets that exist. */
const DEMO_SNIPPETS = {
  footer: `<p style="color:#777;font-size:12px">Demo shop · 1 Example Street · you get this because you signed up</p>`,
  base: `<html><body style="font-family:sans-serif">{% block content %}{% endblock %}
{% render 'footer' %}</body></html>`,
}

const DEMO_TEMPLATES = [
  {
    name: 'welcome',
    kind: 'transactional',
    subject: 'Welcome to the demo shop, {{ contact.traits.name }}',
    html: `{% block content %}<h1>Welcome, {{ contact.traits.name }}!</h1>
<p>Your account is ready. Boots and jackets await.</p>{% endblock %}`,
    layout: 'base',
  },
  {
    name: 'autumn-sale',
    kind: 'marketing',
    group: 'product-news',
    subject: '{{ contact.traits.name }}, 20% off boots this week',
    html: `{% block content %}<h1>Autumn sale</h1>
<p>Hi {{ contact.traits.name }}, everything in the shop is 20% off until Sunday.</p>
<p><a href="https://example.com/demo/">Shop now</a></p>{% endblock %}`,
    layout: 'base',
  },
]

/**
 * Templates, a subscription group and a welcome and a newsletter per sign-up, through the `log`
 * provider (the local default): the console's messages show what was sent and why the rest was
 * not (no marketing consent). Idempotency keys make a second `npm start` send nothing new.
 */
async function demoMessages(url: string, adminKey: string, users: string[]) {
  const tolerate409 = async (what: string, path: string, body: unknown, method = 'POST') => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok && response.status !== 409) {
      throw new Error(`${what} failed: ${response.status} ${await response.text()}`)
    }
  }
  await tolerate409('creating a subscription group', '/api/subscription-groups', {
    id: 'product-news',
    name: 'Product news',
    defaultSubscribed: true,
  })
  for (const [name, body] of Object.entries(DEMO_SNIPPETS)) {
    await tolerate409(`saving the snippet ${name}`, `/api/snippets/${name}`, { body }, 'PUT')
  }
  for (const template of DEMO_TEMPLATES) {
    await tolerate409(`creating the template ${template.name}`, '/api/templates', template)
  }
  const statuses: Record<string, number> = {}
  for (const user of users) {
    for (const template of ['welcome', 'autumn-sale']) {
      const message = await callApi<{ status: string }>(
        `sending ${template} to ${user}`,
        url,
        adminKey,
        '/api/messages/send',
        { contactId: user, template, idempotencyKey: `demo-${template}-${user}` },
      )
      statuses[message.status] = (statuses[message.status] ?? 0) + 1
    }
  }
  return statuses
}

async function demoSource(url: string, adminKey: string) {
  const { items } = await callApi<{ items: SeedResult['source'][] }>(
    'listing sources',
    url,
    adminKey,
    '/api/sources',
  )
  const existing = items.find((s) => s.name === SOURCE_NAME)
  if (existing) return existing
  return callApi<SeedResult['source']>('creating the demo source', url, adminKey, '/api/sources', {
    name: SOURCE_NAME,
    consentMode: 'opt-out',
  })
}

/** Orders are the demo's conversion, defined before any event so each is credited live. */
async function purchaseConversion(url: string, adminKey: string) {
  const path = '/api/attribution/conversions'
  const what = 'listing conversion definitions'
  const { items } = await callApi<{ items: { eventName: string }[] }>(what, url, adminKey, path)
  if (items.some((d) => d.eventName === 'Order Completed')) return
  await callApi('defining the purchase conversion', url, adminKey, path, {
    name: 'Purchase',
    eventName: 'Order Completed',
  })
}

/**
 * Segments defined before any event, like the conversion, so each visitor enters them as its
 * events arrive; existing ones (by name) are kept.
 */
const DEMO_SEGMENTS = [
  {
    name: 'Bought in the last 30 days',
    rule: { performed: 'Order Completed', within: { days: 30 } },
  },
  {
    name: 'Signed up, never bought',
    rule: { all: [{ performed: 'Signed Up' }, { not: { performed: 'Order Completed' } }] },
  },
  {
    name: 'Big spenders',
    rule: {
      performed: 'Order Completed',
      where: [{ property: 'revenue', op: 'gte', value: 150 }],
    },
  },
  {
    name: 'Browsed 3+ pages this week',
    rule: { performed: '$page', count: { op: 'gte', value: 3 }, within: { days: 7 } },
  },
]

async function demoSegments(url: string, adminKey: string): Promise<number> {
  const path = '/api/segments'
  const { items } = await callApi<{ items: { name: string }[] }>(
    'listing segments',
    url,
    adminKey,
    path,
  )
  for (const segment of DEMO_SEGMENTS) {
    if (items.some((s) => s.name === segment.name)) continue
    await callApi(`creating the segment "${segment.name}"`, url, adminKey, path, segment)
  }
  return DEMO_SEGMENTS.length
}

/**
 * The template library's welcome series, published before any event like the segments, so each
 * sign-up enters it as it arrives: the console shows a running journey with its emails, waiting
 * runs and metrics. Kept as it is when it exists.
 */
async function demoJourney(url: string, adminKey: string): Promise<string> {
  const { items } = await callApi<{ items: { id: string; name: string; status: string }[] }>(
    'listing journeys',
    url,
    adminKey,
    '/api/journeys',
  )
  const existing = items.find((j) => j.name === 'Welcome series')
  if (existing) return existing.id
  const { id } = await callApi<{ id: string }>(
    'creating the demo journey',
    url,
    adminKey,
    '/api/journeys',
    {
      name: 'Welcome series',
      template: 'welcome-series',
    },
  )
  await callApi('publishing the demo journey', url, adminKey, `/api/journeys/${id}/publish`, {
    version: 1,
  })
  return id
}

/** Fits the data-driven models on the seeded journeys, so every attribution view has numbers. */
export async function refitAttribution(url: string, adminKey: string) {
  await callApi('refitting attribution', url, adminKey, '/api/attribution/refit', {})
}

/** A management API call (POST when there is a body); a failure names the step and the answer. */
async function callApi<T>(
  what: string,
  url: string,
  adminKey: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (!response.ok) {
    throw new Error(`${what} failed: ${response.status} ${await response.text()}`)
  }
  return (await response.json()) as T
}

async function sendBatch(url: string, writeKey: string, batch: Record<string, unknown>[]) {
  const response = await fetch(`${url}/v1/batch`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa(`${writeKey}:`)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ batch }),
  })
  const body = (await response.json()) as { accepted?: number; rejected?: unknown[] }
  if (!response.ok || body.rejected?.length) {
    throw new Error(`seeding batch failed: ${response.status} ${JSON.stringify(body)}`)
  }
}

function weighted<T extends { weight: number }>(items: T[], random: () => number): T {
  const total = items.reduce((n, i) => n + i.weight, 0)
  let roll = random() * total
  for (const item of items) {
    roll -= item.weight
    if (roll <= 0) return item
  }
  return items[items.length - 1]!
}

/** A small seeded PRNG, so every fresh stack gets the same demo data. */
function mulberry32(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
