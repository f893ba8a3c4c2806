import { describe, expect, it } from 'vitest'
import type { Target } from './runtime.ts'
import {
  benchContact,
  expectedSubject,
  inPool,
  objectGate,
  repeatable,
  type Failures,
} from './messaging-load.ts'

describe('inPool', () => {
  it('runs every index once with no more than the concurrency in flight', async () => {
    const seen: number[] = []
    let inFlight = 0
    let most = 0
    await inPool(25, 4, async (i) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setTimeout(resolve, i % 3))
      seen.push(i)
      inFlight--
    })
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i))
    expect(most).toBe(4)
  })
})

describe('repeatable', () => {
  it('makes a failed request again, counting each failure by reason, and gives up at the third', async () => {
    const failures: Failures = {}
    let calls = 0
    const answer = await repeatable(failures, async () => {
      if (++calls < 3) throw new Error('fetch failed', { cause: new Error('other side closed') })
      return 'ok'
    })
    expect(answer).toBe('ok')
    expect(failures).toEqual({ 'fetch failed: other side closed': 2 })
    await expect(
      repeatable(failures, () => Promise.reject(new Error('POST /v1/consent answered 503'))),
    ).rejects.toThrow('503')
    expect(failures['POST /v1/consent answered 503']).toBe(3)
  })
})

describe('objectGate', () => {
  const target = (open: () => number | null) => ({ openObjects: open }) as unknown as Target

  it('lets requests through at once while workerd holds few objects', async () => {
    const gate = objectGate(
      target(() => 10),
      100,
    )
    await gate.pass()
    expect(gate.heldSeconds()).toBe(0)
  })

  it('holds requests while too many objects are open, until workerd evicts them', async () => {
    let open = 500
    setTimeout(() => (open = 40), 600)
    const gate = objectGate(
      target(() => open),
      100,
    )
    const started = performance.now()
    await gate.pass()
    expect(performance.now() - started).toBeGreaterThanOrEqual(500)
    expect(gate.heldSeconds()).toBeGreaterThan(0.4)
  })

  it('never shuts when the state is not in a folder it can count', async () => {
    const gate = objectGate(
      target(() => null),
      0,
    )
    await gate.pass()
    expect(gate.heldSeconds()).toBe(0)
  })
})

describe('benchContact', () => {
  it('gives each contact its own address, name and order, and the subject its message should have', () => {
    const contact = benchContact(12)
    expect(contact).toMatchObject({
      userId: 'bench-reader-12',
      email: 'reader12@example.com',
      data: { order: 'A-100012' },
    })
    expect(expectedSubject(contact)).toBe(`Order A-100012 has shipped, ${contact.firstName}`)
    expect(benchContact(13).email).not.toBe(contact.email)
  })
})
