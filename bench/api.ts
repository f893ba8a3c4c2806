import { cpus } from 'node:os'
import type { BenchConfig } from './config.ts'
import { cpuSnapshot, cpuUsage, waitForQuiet, type CpuUsage } from './load/cpu.ts'
import { LatencyRecorder, type LatencySummary } from './load/latency.ts'
import { progress } from './progress.ts'
import { int } from './report.ts'
import type { CairnTarget, Target } from './runtime.ts'

/** Small helpers for sections that drive Cairn's HTTP API one request at a time. */

export interface Answer<T = unknown> {
  status: number
  text: string
  body: T
  ms: number
}

/** One request; `auth` picks the bootstrap admin key (management API) or the write key (ingestion). */
export async function call<T = unknown>(
  target: CairnTarget,
  method: string,
  path: string,
  options: { auth?: 'admin' | 'write' | 'none'; body?: unknown } = {},
): Promise<Answer<T>> {
  const auth = options.auth ?? 'admin'
  const headers: Record<string, string> = {}
  if (auth === 'admin') headers.authorization = `Bearer ${target.adminKey}`
  if (auth === 'write')
    headers.authorization = `Basic ${Buffer.from(`${target.writeKey}:`).toString('base64')}`
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  const started = performance.now()
  const response = await fetch(`${target.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  })
  const text = await response.text()
  const ms = performance.now() - started
  let body: unknown = undefined
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  return { status: response.status, text, body: body as T, ms }
}

/** Like `call`, but anything but `expected` is an error that quotes the Worker's answer. */
export async function expectStatus<T = unknown>(
  expected: number,
  target: CairnTarget,
  method: string,
  path: string,
  options: { auth?: 'admin' | 'write' | 'none'; body?: unknown } = {},
): Promise<Answer<T>> {
  const answer = await call<T>(target, method, path, options)
  if (answer.status !== expected) {
    throw new Error(
      `${method} ${path} answered ${answer.status} (expected ${expected}): ${answer.text.slice(0, 600)}`,
    )
  }
  return answer
}

/** Ingestion answers 200 with per-message verdicts; every message must be accepted. */
export async function ingest(target: CairnTarget, path: string, body: unknown, messages: number) {
  const answer = await expectStatus<{ accepted: number; rejected: unknown[] }>(
    200,
    target,
    'POST',
    path,
    { auth: 'write', body },
  )
  if (answer.body.accepted !== messages) {
    throw new Error(
      `POST ${path}: ${answer.body.accepted} of ${messages} messages accepted: ${answer.text.slice(0, 600)}`,
    )
  }
  return answer
}

export function summarize(samples: number[]): LatencySummary {
  const recorder = new LatencyRecorder()
  for (const sample of samples) recorder.record(sample)
  return recorder.summary()
}

/**
 * Before a measured phase: wait (bounded) for other processes on this shared machine, and for
 * workerd, to idle.
 */
export async function quietBefore(config: BenchConfig, phase: string): Promise<void> {
  if (config.quietWait <= 0) return
  let reported = -5
  await waitForQuiet(config.quietWait, 0.25, (usage, waited) => {
    if (waited - reported < 5) return
    reported = waited
    progress(
      phase,
      `waiting for workerd and other processes to go idle (workerd ${cores(usage.runtime)}, others ${cores(usage.other)} cores busy, ${waited.toFixed(0)}/${config.quietWait} s)`,
    )
  })
}

/** At most this many objects may stay open (the audit sequencer, a straggler) when a run starts. */
const SETTLED_OPEN_OBJECTS = 5
const EVICTION_WAIT_SECONDS = 30

/**
 * Before a measured phase: wait (bounded) until workerd has evicted the Durable Objects that
 * earlier runs left open. It evicts idle objects in sweeps of hundreds some seconds after their
 * last request, each closing and checkpointing its SQLite files, while it already looks idle; a
 * run that started before the sweep would pay for it (bench/results/2026-11-25-open-loop-tail.md). So every run starts with its contacts' objects asleep.
 */
export async function evictionsBefore(target: Target, phase: string): Promise<void> {
  const started = performance.now()
  let nextReport = 0
  for (;;) {
    const open = target.openObjects()
    if (open === null || open <= SETTLED_OPEN_OBJECTS) return
    const waited = (performance.now() - started) / 1000
    if (waited >= EVICTION_WAIT_SECONDS) {
      progress(
        phase,
        `starting with ${int(open)} Durable Objects still open after ${EVICTION_WAIT_SECONDS} s`,
      )
      return
    }
    if (waited >= nextReport) {
      nextReport = waited + 5
      progress(
        phase,
        `waiting for workerd to evict ${int(open)} open Durable Objects (${waited.toFixed(0)}/${EVICTION_WAIT_SECONDS} s)`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

/** Runs `work` and reports the CPU used meanwhile by workerd, this process and the rest. */
export async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: CpuUsage }> {
  const before = cpuSnapshot()
  const result = await work()
  return { result, cpu: cpuUsage(before, cpuSnapshot(), cpus().length) }
}

export function cores(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : n.toFixed(2)
}
