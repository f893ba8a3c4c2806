import { expectStatus, ingest } from './api.ts'
import type { LatencySummary } from './load/latency.ts'
import { LatencyRecorder } from './load/latency.ts'
import type { ResendRecord, SendRecord } from './messaging-tally.ts'
import { progress, sleep } from './progress.ts'
import { int } from './report.ts'
import type { CairnTarget, Target } from './runtime.ts'

/**
 * What the messaging section asks of Cairn through its public API: contacts with an address and
 * marketing consent, one template, the providers, and one `POST /api/messages/send` per contact
 * with its own idempotency key, some sent twice.
 */

const PHASE = 'messaging'
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36'
const FIRST_NAMES = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Barbara', 'Ken', 'Frances']
const IDENTIFIES_PER_BATCH = 100
const BATCH_CONCURRENCY = 4
/** Consent decisions and sends in flight at once. */
export const REQUEST_CONCURRENCY = 16
/** One send in this many is sent again with the same idempotency key. */
export const RESEND_EVERY = 100
const REQUEST_ATTEMPTS = 3

/** The template the sends use: a trait and a data variable in the subject, a loop in the HTML. */
export const TEMPLATE = {
  name: 'bench-order-shipped',
  kind: 'marketing' as const,
  subject: 'Order {{ data.order }} has shipped, {{ contact.traits.firstName }}',
  html: [
    '<h1>Good news, {{ contact.traits.firstName }}!</h1>',
    '<p>Your order <strong>{{ data.order }}</strong> left our warehouse today.</p>',
    '<table>',
    '{% for item in data.items %}<tr><td>{{ item.name }}</td><td>{{ item.quantity }}</td>' +
      '<td>{{ item.price }} EUR</td></tr>{% endfor %}',
    '</table>',
    '<p>Total: {{ data.total }} EUR. Track it at <a href="https://shop.example/orders/{{ data.order }}">' +
      'shop.example/orders/{{ data.order }}</a>.</p>',
    '<p>Questions? Reply to this email, {{ contact.traits.firstName }}; we read every one.</p>',
  ].join('\n'),
}

/** One contact of the run: who it is and what its message should say. */
export interface BenchContact {
  userId: string
  email: string
  firstName: string
  data: { order: string; items: { name: string; quantity: number; price: string }[]; total: string }
}

export function benchContact(i: number): BenchContact {
  const price = (10 + (i % 90)).toFixed(2)
  return {
    userId: `bench-reader-${i}`,
    email: `reader${i}@example.com`,
    firstName: FIRST_NAMES[i % FIRST_NAMES.length]!,
    data: {
      order: `A-${100_000 + i}`,
      items: [
        { name: 'Trail map', quantity: 1, price },
        { name: 'Water bottle', quantity: 2, price: '12.50' },
      ],
      total: (Number(price) + 25).toFixed(2),
    },
  }
}

/** The subject the provider should receive for a contact's message. */
export function expectedSubject(contact: BenchContact): string {
  return `Order ${contact.data.order} has shipped, ${contact.firstName}`
}

/**
 * Every contact identified with an address (`/v1/batch`, a hundred identifies a request), then
 * given marketing consent (`/v1/consent`, one request each, as a banner sends it). Both are safe
 * to repeat (identifies by messageId, a decision already in force), so a failed request is.
 */
export async function seedContacts(target: CairnTarget, contacts: number, load: LoadControl) {
  const started = performance.now()
  const batches = Math.ceil(contacts / IDENTIFIES_PER_BATCH)
  await inPool(batches, BATCH_CONCURRENCY, async (b) => {
    await load.gate.pass()
    const from = b * IDENTIFIES_PER_BATCH
    const batch = Array.from(
      { length: Math.min(contacts, from + IDENTIFIES_PER_BATCH) - from },
      (_, j) => {
        const contact = benchContact(from + j)
        return {
          type: 'identify',
          userId: contact.userId,
          traits: { email: contact.email, firstName: contact.firstName },
          messageId: `bench-identify-${from + j}`,
          context: { userAgent: UA },
        }
      },
    )
    await repeatable(load.failures, () => ingest(target, '/v1/batch', { batch }, batch.length))
  })
  const identified = (performance.now() - started) / 1000
  progress(PHASE, `${int(contacts)} contacts identified in ${identified.toFixed(1)} s`)
  await inPool(contacts, REQUEST_CONCURRENCY, async (i) => {
    await load.gate.pass()
    const body = {
      userId: benchContact(i).userId,
      purposes: { analytics: true, marketing: true, personalization: true, advertising: false },
      policyVersion: 'bench-2026-12',
      source: 'bench',
    }
    await repeatable(load.failures, () =>
      expectStatus(200, target, 'POST', '/v1/consent', { auth: 'write', body }),
    )
  })
  const consented = (performance.now() - started) / 1000 - identified
  progress(PHASE, `${int(contacts)} marketing consents in ${consented.toFixed(1)} s`)
  return { identifySeconds: identified, consentSeconds: consented }
}

/** Requests that failed (not answered as expected, or the connection dropped), by reason. */
export type Failures = Record<string, number>

/** What every request of the load goes through: the gate first, then `repeatable`. */
export interface LoadControl {
  failures: Failures
  gate: ObjectGate
}

/**
 * Open Durable Objects the load lets workerd hold before it waits. workerd caps SQLite's heap
 * for the whole process at 512 MiB, and an open contact holds about 205 KB of it
 * (bench/results/2026-11-25-memory-and-crashes.md): seeding 10,000 contacts unchecked (each
 * identify opens the contact's object and its address's directory object) ran into SQLITE_NOMEM
 * and crashed workerd. workerd evicts idle objects some seconds after their last request.
 */
export const MAX_OPEN_OBJECTS = 1500
const GATE_CHECK_MS = 250

export interface ObjectGate {
  /** Resolves once workerd holds at most MAX_OPEN_OBJECTS open, at once when it does. */
  pass(): Promise<void>
  /** Seconds the gate was shut so far. */
  heldSeconds(): number
}

/** A gate on the target's open objects (none when its state is not in a known folder). */
export function objectGate(target: Target, limit = MAX_OPEN_OBJECTS): ObjectGate {
  let checkedAt = -Infinity
  let open = 0
  let shutAt: number | null = null
  let heldMs = 0
  const refresh = () => {
    const now = performance.now()
    if (now - checkedAt < GATE_CHECK_MS) return
    checkedAt = now
    open = target.openObjects() ?? 0
    if (open > limit && shutAt === null) shutAt = now
    if (open <= limit && shutAt !== null) {
      heldMs += now - shutAt
      shutAt = null
    }
  }
  return {
    async pass() {
      for (refresh(); open > limit; refresh()) await sleep(GATE_CHECK_MS)
    },
    heldSeconds: () => (heldMs + (shutAt === null ? 0 : performance.now() - shutAt)) / 1000,
  }
}

/**
 * A request that is safe to repeat, made up to REQUEST_ATTEMPTS times: on this machine a kept-alive
 * connection to workerd now and then drops under load ("other side closed"), and a client would
 * send again. Each failure is counted by reason; the last one is thrown.
 */
export async function repeatable<T>(failures: Failures, request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request()
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause
      const reason = `${(error as Error).message}${cause ? `: ${cause.message}` : ''}`.slice(0, 160)
      failures[reason] = (failures[reason] ?? 0) + 1
      if (attempt >= REQUEST_ATTEMPTS) throw error
    }
  }
}

export async function createTemplate(target: CairnTarget): Promise<string> {
  const created = await expectStatus<{ id: string }>(201, target, 'POST', '/api/templates', {
    body: TEMPLATE,
  })
  return created.body.id
}

export interface ProviderPlan {
  sendgridBaseUrl: string
  resendBaseUrl: string
  sendgridKey: string
  resendKey: string
}

/** SendGrid (down) first, Resend (flaky) second, through the API a console would use. */
export async function configureProviders(target: CairnTarget, plan: ProviderPlan) {
  await expectStatus(200, target, 'PUT', '/api/messaging/providers', {
    body: [
      { kind: 'sendgrid', baseUrl: plan.sendgridBaseUrl, apiKey: plan.sendgridKey },
      { kind: 'resend', baseUrl: plan.resendBaseUrl, apiKey: plan.resendKey },
    ],
  })
}

export interface SendPhase {
  sends: SendRecord[]
  resends: ResendRecord[]
  latency: LatencySummary
  seconds: number
}

interface SendAnswer {
  id: string
  status: string
  duplicate: boolean
}

/**
 * One send per contact, REQUEST_CONCURRENCY at a time, each with its own idempotency key; every
 * RESEND_EVERY-th is sent again as soon as its first answer is in, while its message may be
 * sending, and must answer the same message as a duplicate. A send that failed is sent again
 * with its key, as a client would: the key makes that safe.
 */
export async function sendMessages(
  target: CairnTarget,
  contacts: number,
  templateId: string,
  load: LoadControl,
): Promise<SendPhase> {
  const sends: SendRecord[] = []
  const resends: ResendRecord[] = []
  const latency = new LatencyRecorder()
  const started = performance.now()
  let reported = started

  const send = async (contact: BenchContact, idempotencyKey: string) => {
    const body = {
      contactId: contact.userId,
      template: templateId,
      data: contact.data,
      idempotencyKey,
    }
    await load.gate.pass()
    const answer = await repeatable(load.failures, () =>
      expectStatus<SendAnswer>(202, target, 'POST', '/api/messages/send', { body }),
    )
    latency.record(answer.ms)
    return answer.body
  }

  await inPool(contacts, REQUEST_CONCURRENCY, async (i) => {
    const contact = benchContact(i)
    const key = `bench-order-shipped-${i}`
    const first = await send(contact, key)
    sends.push({
      messageId: first.id,
      status: first.status,
      duplicate: first.duplicate,
      to: contact.email,
      subject: expectedSubject(contact),
    })
    if (i % RESEND_EVERY === 0) {
      const again = await send(contact, key)
      resends.push({ originalId: first.id, messageId: again.id, duplicate: again.duplicate })
    }
    const now = performance.now()
    if (now - reported >= 5000) {
      reported = now
      progress(
        PHASE,
        `sent ${int(sends.length)} of ${int(contacts)} (${int(resends.length)} again)`,
      )
    }
  })
  return {
    sends,
    resends,
    latency: latency.summary(),
    seconds: (performance.now() - started) / 1000,
  }
}

/** Runs `work` for 0 … count - 1 with at most `concurrency` in flight, in order of start. */
export async function inPool(
  count: number,
  concurrency: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) await work(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
}
