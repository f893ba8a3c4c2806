import { describe, expect, it } from 'vitest'
import { RefreshedValue } from './refreshed-value'

/** A load whose reads the test settles by hand, on a clock the test moves. */
function harness(ttlMs = 5_000) {
  let clock = 0
  const reads: { resolve: (value: string) => void; reject: (error: Error) => void }[] = []
  const cached = new RefreshedValue<string>(ttlMs, () => clock)
  const read = () => new Promise<string>((resolve, reject) => reads.push({ resolve, reject }))
  const value = { get: () => cached.get(read), forget: () => cached.forget() }
  const settled = async <T>(promise: Promise<T>) => {
    let done = false
    void promise.then(
      () => (done = true),
      () => (done = true),
    )
    for (let i = 0; i < 5; i++) await Promise.resolve()
    return done
  }
  return { value, reads, settled, advance: (ms: number) => (clock += ms) }
}

describe('a value refreshed per isolate', () => {
  it('serves the stale value while one request refreshes it, then the new one', async () => {
    const { value, reads, settled, advance } = harness()
    const first = value.get()
    reads[0]!.resolve('v1')
    expect(await first).toBe('v1')
    expect(await value.get()).toBe('v1')
    expect(reads).toHaveLength(1)

    advance(5_000)
    const refreshing = value.get()
    // Others do not wait on the refresh's read: it belongs to another request.
    expect(await value.get()).toBe('v1')
    expect(await value.get()).toBe('v1')
    expect(reads).toHaveLength(2)
    expect(await settled(refreshing)).toBe(false)
    reads[1]!.resolve('v2')
    expect(await refreshing).toBe('v2')
    expect(await value.get()).toBe('v2')
  })

  it('before any value exists, every request reads for itself', async () => {
    const { value, reads } = harness()
    const a = value.get()
    const b = value.get()
    expect(reads).toHaveLength(2)
    reads[1]!.resolve('from b')
    expect(await b).toBe('from b')
    reads[0]!.resolve('from a')
    expect(await a).toBe('from a')
  })

  it('keeps the last value when a refresh fails, and fails only with nothing to serve', async () => {
    const { value, reads, advance } = harness()
    const cold = value.get()
    reads[0]!.reject(new Error('D1 unavailable'))
    await expect(cold).rejects.toThrow('D1 unavailable')

    const second = value.get()
    reads[1]!.resolve('v1')
    await second
    advance(5_000)
    const failed = value.get()
    reads[2]!.reject(new Error('D1 unavailable'))
    expect(await failed).toBe('v1')
    // The next request tries again.
    const retry = value.get()
    expect(reads).toHaveLength(4)
    reads[3]!.resolve('v2')
    expect(await retry).toBe('v2')
  })

  it('gives up on a refresh that never finishes, and forgets on demand', async () => {
    const { value, reads, advance } = harness()
    const first = value.get()
    reads[0]!.resolve('v1')
    await first
    advance(5_000)
    void value.get() // its request ended: this read never settles
    advance(9_000)
    expect(await value.get()).toBe('v1')
    expect(reads).toHaveLength(2)
    advance(1_000)
    const takeOver = value.get()
    expect(reads).toHaveLength(3)
    reads[2]!.resolve('v2')
    expect(await takeOver).toBe('v2')

    // A change made here: the next request reads anew, and a read begun before the change
    // does not put the old value back.
    advance(5_000)
    const before = value.get()
    value.forget()
    reads[3]!.resolve('before the change')
    expect(await before).toBe('before the change')
    const after = value.get()
    expect(reads).toHaveLength(5)
    reads[4]!.resolve('after the change')
    expect(await after).toBe('after the change')
    expect(await value.get()).toBe('after the change')
  })
})
