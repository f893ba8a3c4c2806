/**
 * A value read from storage on the hot path and kept per isolate for a few seconds. Pure: the
 * clock is given, and each call brings its read (made with that request's bindings).
 *
 * Requests share the loaded value, never a pending read. A request that awaits a read started by
 * another request waits on that request's I/O; in workerd this stalled every request that
 * arrived while the attribution settings were being refreshed for about 10 s (ingestion's p99
 * at 64 connections was 5 s). So while no value exists, each request reads for itself; once one
 * exists, an expired value is still served while a single request refreshes it, and a failed
 * refresh keeps the last value rather than failing the requests that need it.
 */
export class RefreshedValue<T> {
  private value?: { data: T; until: number }
  /** When the refresh in progress started. */
  private refreshing?: number
  /** Raised by `forget`, so that a read started before it does not store what it found. */
  private generation = 0

  constructor(
    /** How long a loaded value is fresh. */
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value, reading it with `read` only when there is none or it needs refreshing. */
  async get(read: () => Promise<T>): Promise<T> {
    const now = this.now()
    const current = this.value
    if (current && current.until > now) return current.data
    // A refresh whose request ended before it finished never settles: after two lifetimes,
    // another request takes over.
    const refreshInProgress =
      this.refreshing !== undefined && now - this.refreshing < 2 * this.ttlMs
    if (current && refreshInProgress) return current.data
    this.refreshing = now
    const generation = this.generation
    try {
      const data = await read()
      if (generation === this.generation) this.value = { data, until: this.now() + this.ttlMs }
      return data
    } catch (error) {
      if (current) return current.data
      throw error
    } finally {
      if (this.refreshing === now) this.refreshing = undefined
    }
  }

  /** Drops the value (after a change made by this isolate), so the next request reads anew. */
  forget() {
    this.value = undefined
    this.refreshing = undefined
    this.generation++
  }
}
