import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runInDurableObject,
} from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Attempt } from '../../contracts/messaging'
import type { MessageRequest } from '../../durable/contact-messaging'
import { api, createSource, eventually, send, uid } from '../../test/support/api'
import { consumeSends, MAX_RETRIES, retryDelay } from './send-consumer'

/**
 * The send consumer against providers faked at the fetch boundary. Each message is made in
 * quiet hours (so the real queue never carries it) and then made due, and the tests deliver its
 * job themselves, as the queue would, with a fake network.
 */

let writeKey: string
const HOUR_MS = 3_600_000

beforeAll(async () => {
  writeKey = (await createSource({ name: 'Send tests' })).writeKey
  for (const [name, kind] of [
    ['receipt', 'transactional'],
    ['promo', 'marketing'],
  ] as const) {
    const response = await api('/api/templates', {
      method: 'POST',
      json: {
        name,
        kind,
        subject: 'Hello {{ contact.traits.name }}',
        html: '<p>Hi {{ contact.traits.name }}, your code is {{ data.code }}</p>',
      },
    })
    expect([201, 409]).toContain(response.status)
  }
})

async function person(traits: Record<string, unknown> = {}) {
  const user = uid('user')
  await send('/v1/identify', writeKey, {
    userId: user,
    traits: { email: `${user}@example.com`, name: 'Ada', ...traits },
  })
  await send('/v1/consent', writeKey, {
    userId: user,
    purposes: { analytics: true, marketing: true, personalization: false, advertising: false },
    policyVersion: 'v1',
    source: 'banner',
  })
  return user
}

function stub(key: string) {
  return env.CONTACTS.get(env.CONTACTS.idFromName(key))
}

/** A message waiting in its contact's object, due now, that no real queue delivery carries. */
async function waitingMessage(user: string, template = 'receipt') {
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16)
  const now = Date.now()
  const request: MessageRequest = {
    templateId: template,
    kind: template === 'promo' ? 'marketing' : 'transactional',
    groupId: template === 'promo' ? 'marketing' : 'transactional',
    groupDefault: true,
    idempotencyKey: uid('key'),
    data: { code: 'X1' },
    rules: { quietHours: { start: clock(now - HOUR_MS), end: clock(now + HOUR_MS) } },
  }
  const result = await stub(user).createMessage(user, request)
  if (!result.found) throw new Error('no contact')
  await runInDurableObject(stub(user), (_instance, state) => {
    state.storage.sql.exec(
      'UPDATE messages SET due_at = ? WHERE id = ?',
      now - 1,
      result.message.id,
    )
  })
  return result.message.id
}

type Handler = (request: Request) => Response | Promise<Response>

/** A network of fake providers by host; every request is kept with its body. */
function network(handlers: Record<string, Handler>) {
  const requests: { host: string; body: any; headers: Headers }[] = []
  // As strict as the runtime's fetch, which refuses to run as another object's method.
  const fetcher = async function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation')
    const request = new Request(input, init)
    const host = new URL(request.url).host
    const body = await request.clone().text()
    requests.push({ host, body: body ? JSON.parse(body) : null, headers: request.headers })
    const handler = handlers[host]
    if (!handler) throw new TypeError(`fetch failed: no route to ${host}`)
    return handler(request)
  } as typeof fetch
  return { fetcher, requests, to: (host: string) => requests.filter((r) => r.host === host) }
}

const ok = (id: string) => () => Response.json({ id }, { status: 200 })
const status = (code: number) => () => Response.json({ message: 'nope' }, { status: code })

async function useProviders(list: Record<string, unknown>[]) {
  const response = await api('/api/messaging/providers', { method: 'PUT', json: list })
  expect(response.status).toBe(200)
}

async function deliver(jobs: { user: string; id: string }[], fetcher: typeof fetch, attempts = 1) {
  const batch = createMessageBatch(
    'cairn-messages',
    jobs.map(({ user, id }) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      attempts,
      body: JSON.stringify({ kind: 'send', contactKey: user, messageId: id }),
    })),
  )
  const ctx = createExecutionContext()
  await consumeSends(batch, env, fetcher)
  return getQueueResult(batch, ctx)
}

async function message(id: string) {
  let row: { status: string; reason: string | null; attempts: Attempt[] } | undefined
  await eventually(async () => {
    const response = await api(`/api/messages/${id}`)
    if (response.status !== 200) return false
    row = (await response.json()) as typeof row
    return row!.status !== 'queued'
  })
  return row!
}

async function timeline(user: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(user)}/events?limit=100`)
  return ((await response.json()) as { items: { event?: string; properties: any }[] }).items
}

const SENDGRID = { kind: 'sendgrid', baseUrl: 'https://sendgrid.test', apiKey: 'SG.test-key-1' }
const RESEND = { kind: 'resend', baseUrl: 'https://resend.test', apiKey: 're_test_key_1' }
const POSTMARK = { kind: 'postmark', baseUrl: 'https://postmark.test', serverToken: 'pm-token-1' }

describe('sending through the providers in order', () => {
  it('renders the template for the contact and falls back to the next provider on a 5xx', async () => {
    await useProviders([SENDGRID, RESEND])
    const user = await person({ name: '<b>Ada</b>' })
    const id = await waitingMessage(user)
    const net = network({ 'sendgrid.test': status(503), 'resend.test': ok('re-1') })
    const result = await deliver([{ user, id }], net.fetcher)
    expect(result.explicitAcks).toHaveLength(1)
    expect(net.to('sendgrid.test')).toHaveLength(1)
    const [sent] = net.to('resend.test')
    expect(sent!.body).toMatchObject({
      to: [`${user}@example.com`],
      subject: 'Hello <b>Ada</b>',
      html: '<p>Hi &lt;b&gt;Ada&lt;/b&gt;, your code is X1</p>',
      tags: [{ name: 'cairn_message', value: id }],
    })
    // Resend honours idempotency keys: a resend after a crash is dropped by the provider.
    expect(sent!.headers.get('Idempotency-Key')).toBeTruthy()
    const row = await message(id)
    expect(row.status).toBe('sent')
    expect(row.attempts.map((a) => `${a.provider} ${a.status}`)).toEqual([
      'sendgrid retryable',
      'resend sent',
    ])
    const events = await timeline(user)
    expect(events.find((e) => e.event === 'Email Sent')?.properties).toMatchObject({
      messageId: id,
      provider: 'resend',
    })
  })

  it('falls back on 429, a timeout and a network failure alike', async () => {
    await useProviders([SENDGRID, POSTMARK, RESEND])
    const user = await person()
    const id = await waitingMessage(user)
    const net = network({
      'sendgrid.test': status(429),
      // postmark.test has no route: the network fails.
      'resend.test': ok('re-2'),
    })
    await deliver([{ user, id }], net.fetcher)
    const row = await message(id)
    expect(row.attempts.map((a) => `${a.provider} ${a.status}`)).toEqual([
      'sendgrid retryable',
      'postmark retryable',
      'resend sent',
    ])
  })

  it('stops at a permanent refusal: no second provider, Email Failed on the timeline', async () => {
    await useProviders([POSTMARK, RESEND])
    const user = await person()
    const id = await waitingMessage(user)
    const net = network({
      'postmark.test': () =>
        Response.json({ ErrorCode: 300, Message: 'Invalid email request' }, { status: 422 }),
      'resend.test': ok('never'),
    })
    const result = await deliver([{ user, id }], net.fetcher)
    expect(result.explicitAcks).toHaveLength(1)
    expect(net.to('resend.test')).toHaveLength(0)
    const row = await message(id)
    expect(row.status).toBe('failed')
    expect(row.reason).toContain('422')
    await eventually(async () => (await timeline(user)).some((e) => e.event === 'Email Failed'))
  })

  it('retries with backoff when every provider fails, and fails for good on the last delivery', async () => {
    await useProviders([RESEND])
    const user = await person()
    const id = await waitingMessage(user)
    const down = network({ 'resend.test': status(500) })
    const first = await deliver([{ user, id }], down.fetcher)
    expect(first.retryMessages).toHaveLength(1)
    const later = await deliver([{ user, id }], down.fetcher, 4)
    expect(later.retryMessages).toHaveLength(1)
    // The delays the queue is asked for (getQueueResult does not report them).
    expect([1, 2, 4, 7, MAX_RETRIES].map(retryDelay)).toEqual([5, 10, 40, 300, 300])
    const last = await deliver([{ user, id }], down.fetcher, MAX_RETRIES + 1)
    expect(last.retryMessages).toEqual([])
    const row = await message(id)
    expect(row.status).toBe('failed')
    // Every delivery's attempt is kept on the message.
    expect(row.attempts).toHaveLength(3)
  })

  it('sends once however often the job is delivered', async () => {
    await useProviders([RESEND])
    const user = await person()
    const id = await waitingMessage(user)
    const net = network({ 'resend.test': ok('re-3') })
    // Two deliveries of the same job at once, then a third after it was sent.
    await Promise.all([deliver([{ user, id }], net.fetcher), deliver([{ user, id }], net.fetcher)])
    await deliver([{ user, id }], net.fetcher)
    expect(net.to('resend.test')).toHaveLength(1)
    expect((await message(id)).status).toBe('sent')
  })

  it('comes back for a message another delivery holds, in case that delivery died', async () => {
    await useProviders([RESEND])
    const user = await person()
    const id = await waitingMessage(user)
    // A delivery that claimed it and then died, sending nothing and settling nothing.
    expect((await stub(user).claimMessage(user, id)).claimed).toBe(true)
    const net = network({ 'resend.test': ok('re-5') })
    const result = await deliver([{ user, id }], net.fetcher)
    expect(result.explicitAcks).toEqual([])
    expect(result.retryMessages).toHaveLength(1)
    expect(net.requests).toHaveLength(0)
    // When the claim has run out, the job's next delivery sends it.
    await runInDurableObject(stub(user), (_instance, state) => {
      state.storage.sql.exec('UPDATE messages SET lease_until = ? WHERE id = ?', Date.now() - 1, id)
    })
    await deliver([{ user, id }], net.fetcher, 2)
    expect(net.to('resend.test')).toHaveLength(1)
    expect((await message(id)).status).toBe('sent')
  })

  it('checks consent at the moment of sending: a withdrawal while queued sends nothing', async () => {
    await useProviders([RESEND])
    const user = await person()
    const id = await waitingMessage(user, 'promo')
    await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { analytics: true, marketing: false, personalization: false, advertising: false },
      policyVersion: 'v1',
      source: 'banner',
    })
    const net = network({ 'resend.test': ok('never') })
    await deliver([{ user, id }], net.fetcher)
    expect(net.requests).toHaveLength(0)
    expect((await message(id)).status).toBe('no_consent')
  })

  it('skips a provider whose circuit opened', async () => {
    await useProviders([SENDGRID, RESEND])
    // The circuits as the earlier tests of this file left them: SendGrid's starts closed here.
    await runInDurableObject(
      env.PROVIDER_HEALTH.get(env.PROVIDER_HEALTH.idFromName('providers')),
      (_o, state) => {
        state.storage.sql.exec('DELETE FROM circuits')
      },
    )
    const net = network({ 'sendgrid.test': status(500), 'resend.test': ok('re-4') })
    const user = await person()
    // Five failures in a row open SendGrid's circuit.
    for (let i = 0; i < 5; i++)
      await deliver([{ user, id: await waitingMessage(user) }], net.fetcher)
    expect(net.to('sendgrid.test')).toHaveLength(5)
    const skipped = await waitingMessage(user)
    await deliver([{ user, id: skipped }], net.fetcher)
    expect(net.to('sendgrid.test')).toHaveLength(5)
    expect((await message(skipped)).attempts.map((a) => `${a.provider} ${a.status}`)).toEqual([
      'sendgrid skipped',
      'resend sent',
    ])
  })

  it('tries every provider in order when every circuit is open, rather than none', async () => {
    await useProviders([SENDGRID, RESEND])
    await runInDurableObject(
      env.PROVIDER_HEALTH.get(env.PROVIDER_HEALTH.idFromName('providers')),
      (_o, state) => {
        state.storage.sql.exec('DELETE FROM circuits')
      },
    )
    const user = await person()
    let resendUp = false
    const net = network({
      'sendgrid.test': status(500),
      'resend.test': () => (resendUp ? ok('re-6')() : status(500)()),
    })
    // Both fail five times in a row: both circuits open.
    for (let i = 0; i < 5; i++)
      await deliver([{ user, id: await waitingMessage(user) }], net.fetcher)
    resendUp = true
    const id = await waitingMessage(user)
    await deliver([{ user, id }], net.fetcher)
    expect((await message(id)).attempts.map((a) => `${a.provider} ${a.status}`)).toEqual([
      'sendgrid retryable',
      'resend sent',
    ])
  })
})
