import { randomUUID } from 'node:crypto'
import { SIGNUP_EVENT } from './journeys-definitions.ts'
import type { BenchRequest } from './workload.ts'

/**
 * The requests the journeys section adds to the ingest workload: each latency contact's
 * identify and signup event, and the round that puts some of the workload's contacts into
 * journeys' waits before the returning events are measured. Pure: the section sends them.
 */

/** One latency contact: identified with an address, then the event a journey starts on. */
export function signupMessages(userId: string, at: number) {
  const context = { library: { name: '@segment/analytics-node', version: '2.2.1' } }
  return {
    identify: {
      type: 'identify',
      userId,
      traits: { email: `${userId}@example.com`, firstName: 'Bench' },
      messageId: `bench-identify-${userId}`,
      timestamp: new Date(at).toISOString(),
      context,
    },
    track: {
      type: 'track',
      userId,
      event: SIGNUP_EVENT,
      properties: { plan: 'trial' },
      messageId: `bench-signup-${userId}`,
      timestamp: new Date(at).toISOString(),
      context,
    },
  }
}

/**
 * What the entry round sends the n-th contact of the first visits (in their order): a product
 * added for one in four (the abandoned-cart journey then waits for an order for a day), a
 * checkout for one in ten (a two-hour wait), a newsletter subscription for one in twenty (an email
 * at once, then a wait). Others get nothing.
 */
export function entryEventFor(
  n: number,
): { event: string; properties: Record<string, unknown> } | null {
  const product = {
    product_id: 'p_1001',
    category: 'Jackets',
    name: 'Alpine Shell Jacket',
    price: 249,
    currency: 'EUR',
  }
  if (n % 20 === 3) return { event: 'Newsletter Subscribed', properties: { list: 'weekly' } }
  if (n % 10 === 1) {
    return {
      event: 'Checkout Started',
      properties: {
        order_id: `ord_bench_${n}`,
        revenue: 249,
        currency: 'EUR',
        products: [product],
      },
    }
  }
  if (n % 4 === 0) return { event: 'Product Added', properties: { ...product, quantity: 1 } }
  return null
}

/**
 * A track from the contact a first visit came from: the same identity, headers (its address,
 * user agent, write key) and context, another event and messageId.
 */
export function entryRequest(
  firstVisit: BenchRequest,
  event: string,
  properties: Record<string, unknown>,
): BenchRequest {
  const page = JSON.parse(firstVisit.body) as Record<string, unknown>
  const messageId = `bench-entry-${randomUUID()}`
  const message = {
    ...(page.userId === undefined ? {} : { userId: page.userId }),
    anonymousId: page.anonymousId,
    type: 'track',
    event,
    properties,
    messageId,
    timestamp: new Date().toISOString(),
    context: page.context,
  }
  return {
    path: '/v1/track',
    headers: firstVisit.headers,
    body: JSON.stringify(message),
    events: 1,
    messageIds: [messageId],
  }
}
