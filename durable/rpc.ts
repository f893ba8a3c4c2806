/**
 * A Durable Object stub whose every method call resolves to its result, already released. An
 * RPC result stays disposable (it could carry stubs) and holds resources on both sides until
 * disposed; left to the garbage collector, workerd warns that this "may take arbitrarily long"
 * (Workers RPC, Lifecycle). Cairn's objects return plain data, which stays readable.
 */
export function releasing<T extends object>(stub: T): T {
  return new Proxy(stub, {
    get: (target, method) => {
      // Not a thenable: a stub returned from an async function must not be awaited as a call.
      if (method === 'then') return undefined
      const call = Reflect.get(target, method) as (...args: unknown[]) => Promise<unknown>
      // Reflect.apply: an RPC method stub would take `.apply` for a remote method of that name.
      return (...args: unknown[]) => Reflect.apply(call, target, args).then(released)
    },
  })
}

/** Methods may also return nothing (undefined or null), which has nothing to release. */
function released<T>(result: T): T {
  ;(result as Partial<Disposable> | null | undefined)?.[Symbol.dispose]?.()
  return result
}
