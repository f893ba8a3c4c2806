/**
 * Releases an RPC result at once. A result stays disposable (it could carry stubs) and holds
 * resources on both sides until disposed; left to the garbage collector, workerd warns that it
 * "may take arbitrarily long" (Workers RPC, Lifecycle). The plain data stays readable.
 */
export function released<T>(result: T): T {
  ;(result as Partial<Disposable>)[Symbol.dispose]?.()
  return result
}
