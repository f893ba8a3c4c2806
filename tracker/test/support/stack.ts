// Helpers for the end-to-end tracker specs (*.e2e.test.ts), which drive the same demo shop in
// Chromium against the real local stack (test/e2e/global-setup.ts provides `stackUrl` and
// `adminKey`) and read back, through the management API, what the edge stored.
import { until } from './browser.ts'

export interface Stack {
  url: string
  adminKey: string
}

async function management<T>(stack: Stack, path: string, init: RequestInit = {}) {
  const response = await fetch(stack.url + path, {
    ...init,
    headers: {
      authorization: `Bearer ${stack.adminKey}`,
      'content-type': 'application/json',
      ...init.headers,
    },
  })
  return { status: response.status, body: (await response.json()) as T }
}

/** A source for one spec: its own write key, consent mode and allowed origins. */
export async function createSource(
  stack: Stack,
  options: { name?: string; consentMode?: 'opt-in' | 'opt-out'; allowedOrigins?: string[] } = {},
) {
  const { status, body } = await management<{ id: string; writeKey: string }>(
    stack,
    '/api/sources',
    { method: 'POST', body: JSON.stringify({ name: 'Tracker e2e', ...options }) },
  )
  if (status != 201) throw new Error(`POST /api/sources: ${status} ${JSON.stringify(body)}`)
  return body
}

export interface StoredEvent {
  type: string
  event?: string
  messageId: string
  anonymousId?: string
  userId?: string
  context: Record<string, any>
  properties?: Record<string, any>
  [field: string]: unknown
}

/** The events stored for a contact (its canonical key: the userId, or `anon:<anonymousId>`). */
export async function contactEvents(stack: Stack, contactId: string) {
  const { status, body } = await management<{ items: StoredEvent[] }>(
    stack,
    `/api/contacts/${encodeURIComponent(contactId)}/events?limit=1000`,
  )
  return status == 200 ? body.items : []
}

/** The contact's effective consent, purpose by purpose (null: never decided). */
export async function contactConsent(stack: Stack, contactId: string) {
  const { status, body } = await management<{ current: Record<string, boolean | null> }>(
    stack,
    `/api/contacts/${encodeURIComponent(contactId)}/consent`,
  )
  return status == 200 ? body.current : null
}

/** Waits until the contact has at least `count` events matching `filter`; oldest first. */
export function eventsOf(
  stack: Stack,
  contactId: string,
  count: number,
  filter: (event: StoredEvent) => boolean = () => true,
) {
  return until(
    async () => {
      const events = (await contactEvents(stack, contactId)).filter(filter).reverse()
      return events.length >= count && events
    },
    { timeout: 20_000, what: `${count} event(s) of ${contactId}` },
  )
}

/** A segment for one spec (`POST /api/segments`); its id. */
export async function createSegment(stack: Stack, name: string, rule: unknown) {
  const { status, body } = await management<{ id: string }>(stack, '/api/segments', {
    method: 'POST',
    body: JSON.stringify({ name, rule }),
  })
  if (status != 201) throw new Error(`POST /api/segments: ${status} ${JSON.stringify(body)}`)
  return body.id
}

/** The segment's members as D1 lists them (`GET /api/segments/:id/members`). */
export async function segmentMembers(stack: Stack, id: string) {
  const { body } = await management<{ items: { contactKey: string }[] }>(
    stack,
    `/api/segments/${encodeURIComponent(id)}/members?limit=1000`,
  )
  return body.items.map((item) => item.contactKey)
}
