import { createExecutionContext, createMessageBatch, env, getQueueResult } from 'cloudflare:test'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import type { JourneyActionJob } from '../../../contracts/queue-messages'
import { consumeSends, MAX_RETRIES, retryDelay } from '../../messaging/send-consumer'
import { handleActionJob } from './consumer'
import { actionJob, actionRow, answer, integrations, network } from './testing'

/**
 * Journey webhooks and tickets through the `cairn-messages` consumer, with receivers and help
 * desks faked at the fetch boundary; each delivery is made by the test, as the queue would.
 */

/** The queue's answer for the job, with the delay each retry asked for. */
async function deliver(job: JourneyActionJob, fetcher: typeof fetch, attempts = 1) {
  const batch = createMessageBatch('cairn-messages', [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body: JSON.stringify(job) },
  ])
  const delays: (number | undefined)[] = []
  for (const message of batch.messages) {
    const retry = message.retry.bind(message)
    message.retry = (options) => {
      delays.push(options?.delaySeconds)
      retry(options)
    }
  }
  const ctx = createExecutionContext()
  await consumeSends(batch, env, fetcher)
  return { ...(await getQueueResult(batch, ctx)), delays }
}

async function secret(): Promise<string> {
  const response = await integrations('/api/journeys/webhook-secret')
  expect(response.status).toBe(200)
  return ((await response.json()) as { secret: string }).secret
}

const ZENDESK = {
  kind: 'zendesk',
  baseUrl: 'https://acme.zendesk.com',
  email: 'ops@acme.test',
  apiToken: 'zd-token-0123456789',
}
const FRESHDESK = {
  kind: 'freshdesk',
  baseUrl: 'https://acme.freshdesk.com',
  apiKey: 'fd-key-0123456789',
}

async function useHelpDesk(config: Record<string, unknown>) {
  const response = await integrations('/api/journeys/ticketing', { method: 'PUT', json: config })
  expect(response.status).toBe(200)
  return response
}

describe('journey webhooks', () => {
  it('sends nothing about a person erased after the step, and keeps no row naming them', async () => {
    const job = actionJob('webhook')
    await env.CONTACTS.get(env.CONTACTS.idFromName(job.contactKey)).erase()
    const net = network({ 'hooks.example.com': answer(200) })
    const result = await deliver(job, net.fetcher)
    expect(result.explicitAcks).toHaveLength(1)
    expect(net.requests).toHaveLength(0)
    const row = await env.DB.prepare('SELECT id FROM journey_actions WHERE contact_key = ?')
      .bind(job.contactKey)
      .first()
    expect(row).toBeNull()
  })

  it('signs each webhook so that Standard Webhooks verifies it with the secret the API answers', async () => {
    const job = actionJob('webhook')
    const net = network({ 'hooks.example.com': answer(200) })
    const result = await deliver(job, net.fetcher)
    expect(result.explicitAcks).toHaveLength(1)
    const [sent] = net.requests
    expect(sent!.method).toBe('POST')
    expect(sent!.headers.get('content-type')).toBe('application/json')
    expect(sent!.headers.get('webhook-id')).toBe(job.idempotencyKey)
    const headers = Object.fromEntries(sent!.headers)
    const payload = new Webhook(await secret()).verify(sent!.text, headers)
    expect(payload).toEqual({
      type: 'journey.webhook',
      timestamp: job.at,
      data: {
        journeyId: 'j1',
        version: 3,
        node: 'n2',
        runId: job.runId,
        contact: job.contact,
        event: job.event,
        data: { order: 42 },
        body: { a: 1 },
      },
    })
    // Another secret does not verify it: the signature is the secret's.
    const other = new Webhook(`whsec_${btoa('another secret of 32 bytes length!')}`)
    expect(() => other.verify(sent!.text, headers)).toThrow()
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'sent',
      attempts: 1,
      response_status: 200,
      kind: 'webhook',
      journey_id: 'j1',
      version: 3,
      run_id: job.runId,
      node: 'n2',
      contact_key: job.contactKey,
      last_error: null,
    })
  })

  it('uses the method the node names', async () => {
    const job = actionJob('webhook', {
      webhook: { url: 'https://hooks.example.com/x', method: 'PUT', body: null },
    })
    const net = network({ 'hooks.example.com': answer(204) })
    await deliver(job, net.fetcher)
    expect(net.requests.map((r) => r.method)).toEqual(['PUT'])
    expect(JSON.parse(net.requests[0]!.text).data.body).toBeNull()
  })

  it('never calls a private, loopback or link-local target, and fails the job at once', async () => {
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:8787/api/keys',
      'http://[::1]/',
      'http://2130706433/',
      'http://[::ffff:10.0.0.1]/',
      'https://printer.local/',
    ]) {
      const job = actionJob('webhook', { webhook: { url, method: 'POST', body: null } })
      const net = network({})
      const result = await deliver(job, net.fetcher)
      expect(net.requests, url).toEqual([])
      expect(result.explicitAcks, url).toHaveLength(1)
      const row = await actionRow(job.idempotencyKey)
      expect(row, url).toMatchObject({ status: 'failed', attempts: 1, response_status: null })
      expect(row!.last_error, url).toMatch(/^Refused to call /)
    }
  })

  it('calls a private target only with CAIRN_WEBHOOK_ALLOW_PRIVATE outside production', async () => {
    const url = 'http://localhost:9999/hook'
    const net = network({ 'localhost:9999': answer(200) })
    const allowed = { ...env, CAIRN_WEBHOOK_ALLOW_PRIVATE: 'true' }
    const job = actionJob('webhook', { webhook: { url, method: 'POST', body: null } })
    expect(await handleActionJob(allowed, job, 1, { fetch: net.fetcher })).toEqual({
      outcome: 'done',
    })
    const production = { ...allowed, CAIRN_ENV: 'production' }
    const refused = actionJob('webhook', { webhook: { url, method: 'POST', body: null } })
    const outcome = await handleActionJob(production, refused, 1, { fetch: net.fetcher })
    expect(outcome.outcome).toBe('failed')
    expect(net.requests).toHaveLength(1)
  })

  it('comes back with backoff on a 503 and is sent on the next delivery', async () => {
    const job = actionJob('webhook')
    let calls = 0
    const net = network({
      'hooks.example.com': () => answer(++calls === 1 ? 503 : 200, { message: 'busy' })(),
    })
    const first = await deliver(job, net.fetcher, 1)
    expect(first.explicitAcks).toEqual([])
    expect(first.retryMessages).toHaveLength(1)
    expect(first.delays).toEqual([retryDelay(1)])
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'retrying',
      attempts: 1,
      response_status: 503,
      last_error: 'The webhook at hooks.example.com answered 503: busy',
    })
    const second = await deliver(job, net.fetcher, 2)
    expect(second.explicitAcks).toHaveLength(1)
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'sent',
      attempts: 2,
      response_status: 200,
      last_error: null,
    })
    // The same webhook-id on both tries: the receiver can drop a repeat.
    expect(new Set(net.requests.map((r) => r.headers.get('webhook-id')))).toEqual(
      new Set([job.idempotencyKey]),
    )
  })

  it('retries 408, 429 and a network failure alike', async () => {
    const receivers: Record<string, () => Response>[] = [
      { 'hooks.example.com': answer(408) },
      { 'hooks.example.com': answer(429) },
      {},
    ]
    for (const handlers of receivers) {
      const job = actionJob('webhook')
      const result = await deliver(job, network(handlers).fetcher, 3)
      expect(result.delays).toEqual([retryDelay(3)])
      expect((await actionRow(job.idempotencyKey))!.status).toBe('retrying')
    }
  })

  it('fails at once on a 400, a 401 and a redirect, which it does not follow', async () => {
    for (const [status, headers] of [
      [400, {}],
      [401, {}],
      [302, { Location: 'http://127.0.0.1/admin' }],
    ] as const) {
      const job = actionJob('webhook')
      const net = network({
        'hooks.example.com': () => new Response('no', { status, headers }),
        '127.0.0.1': answer(200),
      })
      const result = await deliver(job, net.fetcher)
      expect(result.explicitAcks).toHaveLength(1)
      expect(net.requests.map((r) => new URL(r.url).host)).toEqual(['hooks.example.com'])
      expect(net.requests[0]!.redirect).toBe('manual')
      expect(await actionRow(job.idempotencyKey)).toMatchObject({
        status: 'failed',
        response_status: status,
      })
    }
  })

  it('records a retryable failure on the last delivery as failed', async () => {
    const job = actionJob('webhook')
    const result = await deliver(
      job,
      network({ 'hooks.example.com': answer(503) }).fetcher,
      MAX_RETRIES + 1,
    )
    expect(result.explicitAcks).toHaveLength(1)
    const row = await actionRow(job.idempotencyKey)
    expect(row).toMatchObject({ status: 'failed', attempts: MAX_RETRIES + 1 })
    expect(row!.last_error).toBe(
      `Failed on each of ${MAX_RETRIES + 1} deliveries; last: The webhook at hooks.example.com answered 503`,
    )
  })

  it('does not send a job again when the queue delivers it after it was sent', async () => {
    const job = actionJob('webhook')
    const net = network({ 'hooks.example.com': answer(200) })
    await deliver(job, net.fetcher)
    const again = await deliver(job, net.fetcher, 2)
    expect(again.explicitAcks).toHaveLength(1)
    expect(net.requests).toHaveLength(1)
    expect((await actionRow(job.idempotencyKey))!.attempts).toBe(1)
  })

  it('delivers sends and actions of one batch each their own way', async () => {
    const job = actionJob('webhook')
    const net = network({ 'hooks.example.com': answer(200) })
    const batch = createMessageBatch('cairn-messages', [
      { id: 'a', timestamp: new Date(), attempts: 1, body: JSON.stringify(job) },
      // A send whose message is unknown: acknowledged, nothing sent.
      {
        id: 's',
        timestamp: new Date(),
        attempts: 1,
        body: JSON.stringify({ kind: 'send', contactKey: 'user:nobody', messageId: 'm-none' }),
      },
    ])
    const ctx = createExecutionContext()
    await consumeSends(batch, env, net.fetcher)
    const result = await getQueueResult(batch, ctx)
    expect(result.explicitAcks.sort()).toEqual(['a', 's'])
    expect(net.requests).toHaveLength(1)
  })
})

describe('journey tickets', () => {
  it('fails a ticket at once while no help desk is configured', async () => {
    await env.DB.prepare("DELETE FROM settings WHERE key = 'journeys.ticketing'").run()
    const job = actionJob('ticket')
    const net = network({})
    await deliver(job, net.fetcher)
    expect(net.requests).toEqual([])
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'failed',
      last_error: 'No help desk is configured for ticket nodes (PUT /api/journeys/ticketing)',
    })
  })

  it('opens a Zendesk ticket as its API expects, subject and body rendered', async () => {
    await useHelpDesk(ZENDESK)
    const job = actionJob('ticket')
    const net = network({ 'acme.zendesk.com': answer(201, { ticket: { id: 35436 } }) })
    const result = await deliver(job, net.fetcher)
    expect(result.explicitAcks).toHaveLength(1)
    const [sent] = net.requests
    expect(sent!.url).toBe('https://acme.zendesk.com/api/v2/tickets.json')
    expect(sent!.method).toBe('POST')
    expect(sent!.headers.get('authorization')).toBe(
      `Basic ${btoa('ops@acme.test/token:zd-token-0123456789')}`,
    )
    expect(JSON.parse(sent!.text)).toEqual({
      ticket: {
        subject: 'Help Ada',
        comment: { body: 'Order 42 failed: <bounced>\nPlease call.' },
        requester: { email: 'ada@example.com', name: 'Ada' },
        external_id: job.idempotencyKey,
        tags: ['cairn', 'journey-j1'],
      },
    })
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'sent',
      kind: 'ticket',
      response_status: 201,
    })
  })

  it('opens a Freshdesk ticket as its API expects, the body as escaped HTML', async () => {
    await useHelpDesk(FRESHDESK)
    const job = actionJob('ticket')
    const net = network({ 'acme.freshdesk.com': answer(201, { id: 1 }) })
    await deliver(job, net.fetcher)
    const [sent] = net.requests
    expect(sent!.url).toBe('https://acme.freshdesk.com/api/v2/tickets')
    expect(sent!.headers.get('authorization')).toBe(`Basic ${btoa('fd-key-0123456789:X')}`)
    expect(JSON.parse(sent!.text)).toEqual({
      subject: 'Help Ada',
      description: 'Order 42 failed: &lt;bounced&gt;<br>Please call.',
      email: 'ada@example.com',
      name: 'Ada',
      priority: 1,
      status: 2,
      tags: ['cairn', 'journey-j1'],
    })
    expect((await actionRow(job.idempotencyKey))!.status).toBe('sent')
  })

  it('fails at once for a contact without an email address, saying so', async () => {
    await useHelpDesk(FRESHDESK)
    const job = actionJob('ticket')
    job.contact = { ...job.contact, email: null }
    const net = network({ 'acme.freshdesk.com': answer(201, { id: 2 }) })
    await deliver(job, net.fetcher)
    expect(net.requests).toEqual([])
    expect(await actionRow(job.idempotencyKey)).toMatchObject({
      status: 'failed',
      last_error: 'The contact has no email address: Freshdesk needs one for a requester',
    })
  })

  it('fails at once when the subject does not render, naming the problem', async () => {
    await useHelpDesk(FRESHDESK)
    const job = actionJob('ticket', { ticket: { subject: 'Hi {{ contact.traits.name', body: 'x' } })
    const net = network({ 'acme.freshdesk.com': answer(201, { id: 3 }) })
    await deliver(job, net.fetcher)
    expect(net.requests).toEqual([])
    const row = await actionRow(job.idempotencyKey)
    expect(row!.status).toBe('failed')
    expect(row!.last_error).toMatch(/^The ticket does not render: subject/)
  })

  it('never shows the credential: not in any answer, not in an error the help desk echoes', async () => {
    const put = await useHelpDesk(ZENDESK)
    const get = await integrations('/api/journeys/ticketing')
    const answers = [await put.text(), await get.text()]
    expect(JSON.parse(answers[1]!)).toEqual({
      kind: 'zendesk',
      baseUrl: 'https://acme.zendesk.com',
      email: 'ops@acme.test',
      credentials: { apiToken: 'set' },
    })
    const authorization = btoa('ops@acme.test/token:zd-token-0123456789')
    const job = actionJob('ticket')
    const net = network({
      'acme.zendesk.com': answer(401, {
        error: "Couldn't authenticate you",
        description: `token zd-token-0123456789 (${authorization}) is not valid`,
      }),
    })
    await deliver(job, net.fetcher)
    const row = await actionRow(job.idempotencyKey)
    expect(row).toMatchObject({ status: 'failed', response_status: 401 })
    expect(row!.last_error).toContain('Zendesk answered 401: token [redacted] ([redacted])')
    for (const text of [...answers, row!.last_error!]) {
      expect(text).not.toContain('zd-token-0123456789')
      expect(text).not.toContain(authorization)
    }
  })
})
