import autocannon from 'autocannon'
import type { TargetName } from '../config.ts'
import { progress } from '../progress.ts'
import type { BenchRequest } from '../workload.ts'
import { LatencyRecorder } from './latency.ts'
import type { Ledger } from './ledger.ts'
import type { RunResult, RunShape } from './run-result.ts'

export interface ClosedLoopOptions {
  target: TargetName
  url: string
  shape: RunShape
  connections: number
  /** Run for this long, or until `amount` requests are answered when that is given. */
  seconds: number
  amount?: number
  /** With `amount`: stop anyway after this many seconds. */
  maxSeconds?: number
  next: () => BenchRequest
  ledger: Ledger
  /** Progress label; warm-up runs pass their own. */
  label?: string
}

/**
 * Fixed concurrency with autocannon: each connection sends its next request as soon as the
 * previous one is answered. Every request is freshly generated (unique messageIds), and each
 * answer is matched to its request so accepted events are counted from the response bodies.
 */
export function runClosedLoop(options: ClosedLoopOptions): Promise<RunResult> {
  const { ledger } = options
  const label = options.label ?? `${options.shape} c${options.connections}`
  const latency = new LatencyRecorder()
  const inflight = new Map<number, BenchRequest>()
  const acceptedBefore = ledger.accepted
  const unknownBefore = ledger.unknownRequests
  let seq = 0
  let answered = 0
  let lastAnswer = 0

  return new Promise((resolve, reject) => {
    const started = performance.now()
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        ...(options.amount ? { amount: options.amount } : { duration: options.seconds }),
        timeout: 30,
        requests: [
          {
            setupRequest(request, context) {
              const next = options.next()
              const token = ++seq
              inflight.set(token, next)
              context.token = token
              request.method = 'POST'
              request.path = next.path
              request.headers = next.headers
              request.body = next.body
              return request
            },
            onResponse(status, body, context) {
              const token = context.token as number
              const sent = inflight.get(token)
              if (!sent) return
              inflight.delete(token)
              answered++
              lastAnswer = performance.now()
              if (status >= 200 && status < 300) ledger.acknowledge(sent.events, body)
              else ledger.unacknowledged(sent.messageIds)
            },
          },
        ],
      },
      (error, result) => {
        clearInterval(ticker)
        clearTimeout(cap)
        if (error) return reject(error)
        // Requests cut off when the run stopped (or lost to a timeout) have an unknown outcome.
        for (const sent of inflight.values()) ledger.unacknowledged(sent.messageIds)
        const statusCodes: Record<string, number> = {}
        for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
          statusCodes[code] = count
        }
        const ok = Object.entries(statusCodes)
          .filter(([code]) => code.startsWith('2'))
          .reduce((sum, [, n]) => sum + n, 0)
        const accepted = ledger.accepted - acceptedBefore
        // autocannon notices the end on its 1 s tick; with `amount`, time the answers instead.
        const seconds = options.amount ? (lastAnswer - started) / 1000 : result.duration
        resolve({
          target: options.target,
          shape: options.shape,
          mode: 'closed',
          connections: options.connections,
          seconds,
          completed: answered,
          ok,
          non2xx: result.non2xx,
          errors: result.errors,
          statusCodes,
          requestsPerSec: ok / seconds,
          eventsPerSec: accepted / seconds,
          accepted,
          unknownRequests: ledger.unknownRequests - unknownBefore,
          latency: latency.summary(),
        })
      },
    )
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latency.record(ms)
    })
    const cap = setTimeout(
      () => {
        if (!options.amount || !options.maxSeconds) return
        progress(options.target, `${label}: stopped after ${options.maxSeconds} s`)
        instance.stop()
      },
      (options.maxSeconds ?? 0) * 1000,
    )
    const ticker = setInterval(() => {
      const s = (performance.now() - started) / 1000
      progress(
        options.target,
        `${label}: ${s.toFixed(0)}${options.amount ? ` s, ${answered}/${options.amount}` : `/${options.seconds} s, ${answered}`} answered, ~${(answered / s).toFixed(0)} req/s`,
      )
    }, 3000)
  })
}
