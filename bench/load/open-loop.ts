import { Agent, request as httpRequest } from 'node:http'
import type { TargetName } from '../config.ts'
import { progress } from '../progress.ts'
import type { BenchRequest } from '../workload.ts'
import { LatencyRecorder } from './latency.ts'
import type { Ledger } from './ledger.ts'
import type { RunResult, RunShape } from './run-result.ts'

export interface OpenLoopOptions {
  target: TargetName
  url: string
  shape: RunShape
  /** Requests per second, sent on schedule whatever the answers do. */
  rate: number
  seconds: number
  next: () => BenchRequest
  ledger: Ledger
  /** A request not answered within this is counted as an error. */
  timeoutMs?: number
}

/**
 * Open loop: request i is due at start + i/rate and is sent then, however many earlier ones are
 * still waiting (a keep-alive agent opens more connections when all are busy). Latency runs from
 * the scheduled time, not the send time, so a stalled server or a late generator shows up in the
 * percentiles instead of silently lowering the rate (no coordinated omission).
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<RunResult> {
  const { ledger, rate } = options
  const timeoutMs = options.timeoutMs ?? 10_000
  const target = new URL(options.url)
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 10_000 })
  const latency = new LatencyRecorder()
  const statusCodes: Record<string, number> = {}
  const acceptedBefore = ledger.accepted
  const unknownBefore = ledger.unknownRequests
  const total = Math.round(rate * options.seconds)
  const interval = 1000 / rate
  let sent = 0
  let settled = 0
  let ok = 0
  let non2xx = 0
  let errors = 0
  let maxSendLag = 0

  const start = performance.now() + 20
  let allSettled!: () => void
  const done = new Promise<void>((resolve) => (allSettled = resolve))

  const pending = new Map<number, BenchRequest>()
  const finish = (id: number) => {
    if (!pending.delete(id)) return
    settled++
    if (settled === total) allSettled()
  }

  const send = (due: number) => {
    const next = options.next()
    const id = sent
    pending.set(id, next)
    maxSendLag = Math.max(maxSendLag, performance.now() - due)
    const req = httpRequest(
      {
        agent,
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: next.path,
        headers: { ...next.headers, 'content-length': Buffer.byteLength(next.body) },
        timeout: timeoutMs,
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => {
          if (!pending.has(id)) return
          latency.record(performance.now() - due)
          const status = res.statusCode ?? 0
          statusCodes[status] = (statusCodes[status] ?? 0) + 1
          if (status >= 200 && status < 300) {
            ok++
            ledger.acknowledge(next.events, body)
          } else {
            non2xx++
            ledger.unacknowledged(next.messageIds)
          }
          finish(id)
        })
      },
    )
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => {
      if (!pending.has(id)) return
      errors++
      ledger.unacknowledged(next.messageIds)
      latency.record(performance.now() - due)
      finish(id)
    })
    req.end(next.body)
  }

  const tick = () => {
    const now = performance.now()
    while (sent < total && start + sent * interval <= now) {
      send(start + sent * interval)
      sent++
    }
    if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
  }
  setTimeout(tick, 20)

  const ticker = setInterval(() => {
    const s = (performance.now() - start) / 1000
    progress(
      options.target,
      `open loop ${rate} req/s: ${Math.min(s, options.seconds).toFixed(0)}/${options.seconds} s, ${sent} sent, ${settled} answered`,
    )
  }, 3000)
  // Bounded: the schedule ends by itself; stragglers get the request timeout plus a margin.
  const deadline = options.seconds * 1000 + timeoutMs + 5_000
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, deadline))])
  clearInterval(ticker)
  agent.destroy()
  for (const next of pending.values()) ledger.unacknowledged(next.messageIds)
  const seconds = (performance.now() - start) / 1000
  const accepted = ledger.accepted - acceptedBefore
  return {
    target: options.target,
    shape: options.shape,
    mode: 'open',
    rate,
    seconds: options.seconds,
    completed: ok + non2xx,
    ok,
    non2xx,
    errors: errors + (total - settled),
    statusCodes,
    requestsPerSec: ok / Math.max(seconds, options.seconds),
    eventsPerSec: accepted / Math.max(seconds, options.seconds),
    accepted,
    unknownRequests: ledger.unknownRequests - unknownBefore,
    latency: latency.summary(),
    maxSendLagMs: maxSendLag,
  }
}
