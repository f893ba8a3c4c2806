/** The part of autocannon's API the bench uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  interface RequestSpec {
    method?: string
    path?: string
    headers?: Record<string, string>
    body?: string | Buffer
  }

  interface Options {
    url: string
    connections?: number
    pipelining?: number
    duration?: number
    timeout?: number
    requests?: {
      setupRequest?: (request: RequestSpec, context: Record<string, unknown>) => RequestSpec
      onResponse?: (status: number, body: string, context: Record<string, unknown>) => void
    }[]
  }

  interface Result {
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    totalCompletedRequests: number
    statusCodeStats: Record<string, { count: number }>
  }

  interface Instance extends EventEmitter {
    stop(): void
  }

  function autocannon(
    options: Options,
    callback: (error: Error | null, result: Result) => void,
  ): Instance
  export default autocannon
}
