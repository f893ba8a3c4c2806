import type { Message } from './seed-shop.ts'

/**
 * The seed's client of the public API, as real clients use it: the management API with the
 * admin key (a failure names the step and the answer) and ingestion with a write key.
 */
export class DemoApi {
  readonly url: string
  private readonly adminKey: string

  constructor(url: string, adminKey: string) {
    this.url = url
    this.adminKey = adminKey
  }

  get<T>(what: string, path: string): Promise<T> {
    return this.manage<T>(what, path)
  }

  post<T>(what: string, path: string, body: unknown): Promise<T> {
    return this.manage<T>(what, path, { method: 'POST', body })
  }

  put<T>(what: string, path: string, body: unknown): Promise<T> {
    return this.manage<T>(what, path, { method: 'PUT', body })
  }

  /**
   * A management call; `allow` lists statuses that are no failure but answer undefined (409: it
   * exists already; 404: there is none yet).
   */
  async manage<T>(
    what: string,
    path: string,
    init: { method?: string; body?: unknown; allow?: number[] } = {},
  ): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { Authorization: `Bearer ${this.adminKey}`, 'Content-Type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    })
    if (!response.ok) {
      if (init.allow?.includes(response.status)) return undefined as T
      throw new Error(`${what} failed: ${response.status} ${await response.text()}`)
    }
    const text = await response.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  /** Sends messages through `/v1/batch`; every one must be accepted. */
  async batch(writeKey: string, batch: readonly Message[]) {
    if (batch.length === 0) return
    const response = await fetch(`${this.url}/v1/batch`, {
      method: 'POST',
      headers: writeKeyHeaders(writeKey),
      body: JSON.stringify({ batch }),
    })
    const body = (await response.json()) as { accepted?: number; rejected?: unknown[] }
    if (!response.ok || body.rejected?.length) {
      throw new Error(`seeding batch failed: ${response.status} ${JSON.stringify(body)}`)
    }
  }

  /** What a sign-up form's ticked box sends: marketing yes, advertising no. */
  async consent(writeKey: string, userId: string) {
    const response = await fetch(`${this.url}/v1/consent`, {
      method: 'POST',
      headers: writeKeyHeaders(writeKey),
      body: JSON.stringify({
        userId,
        purposes: { analytics: true, marketing: true, personalization: true, advertising: false },
        policyVersion: 'demo-1',
        source: 'signup form',
      }),
    })
    if (!response.ok) throw new Error(`recording consent failed: ${response.status}`)
  }
}

function writeKeyHeaders(writeKey: string) {
  return { Authorization: `Basic ${btoa(`${writeKey}:`)}`, 'Content-Type': 'application/json' }
}

/**
 * Runs `work` over the items, `size` at a time: the stack stores different contacts in
 * parallel, so a few requests in flight keep both cores busy where one at a time waits.
 */
export async function inPool<T>(
  items: readonly T[],
  size: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      await work(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker))
}

/** Items in groups of `size` (contacts per ingestion batch). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = []
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size))
  return groups
}

/** Polls `check` until it answers a value, or gives up with what was awaited named. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not done within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
}
