/**
 * Values computed once per key and kept per isolate (hashes of IPs, of contact keys), up to
 * `max` keys, after which all are dropped. Only computed values are shared between requests,
 * never a computation in progress (see refreshed-value.ts for why).
 */
export class Memo<T> {
  private readonly values = new Map<string, T>()

  constructor(private readonly max = 10_000) {}

  async get(key: string, compute: () => Promise<T>): Promise<T> {
    const known = this.values.get(key)
    if (known !== undefined) return known
    const value = await compute()
    if (this.values.size >= this.max) this.values.clear()
    this.values.set(key, value)
    return value
  }
}
