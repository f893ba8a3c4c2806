import { readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { sleep, withTimeout } from './progress.ts'

/**
 * A V8 CPU profile of a worker's isolate inside workerd, taken over the inspector protocol
 * (miniflare's `inspectorPort`), and summarised by original source file through the bundle's
 * source map. The Worker's fetch handler, its Durable Objects and its queue consumer share the
 * isolate, so one profile shows where a request's CPU goes, end to end.
 */

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileSummary {
  /** Wall time profiled and the share the isolate was busy, ms. */
  wallMs: number
  busyMs: number
  /** Self time by original source (package or Cairn file), ms, largest first. */
  selfBySource: { source: string; ms: number }[]
  /** Inclusive time of Cairn's own functions (each counted once per sample), ms. */
  inclusiveByFunction: { fn: string; ms: number }[]
  /** Self time by function, all sources. */
  selfByFunction: { fn: string; ms: number }[]
}

/**
 * Connects to the isolate named `targetId` and profiles it while `during` runs, sampling every
 * `intervalUs` microseconds (a longer interval keeps a long run's profile small enough for the
 * inspector to hand over).
 */
export async function profileIsolate<T>(
  inspectorPort: number,
  targetId: string,
  during: () => Promise<T>,
  intervalUs = 250,
): Promise<{ profile: CpuProfile; result: T }> {
  const socket = new WebSocket(`ws://127.0.0.1:${inspectorPort}/${targetId}`)
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve())
      socket.addEventListener('error', () => reject(new Error('inspector connection failed')))
    }),
    10_000,
    'inspector connection',
  )
  let nextId = 0
  const pending = new Map<number, (value: unknown) => void>()
  socket.addEventListener('message', (event: { data: unknown }) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown }
    if (message.id !== undefined) pending.get(message.id)?.(message.result)
  })
  const call = (method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000) =>
    withTimeout(
      new Promise<unknown>((resolve) => {
        const id = ++nextId
        pending.set(id, resolve)
        socket.send(JSON.stringify({ id, method, params }))
      }),
      timeoutMs,
      `inspector ${method}`,
    )
  try {
    await call('Profiler.enable')
    await call('Profiler.setSamplingInterval', { interval: intervalUs })
    await call('Profiler.start')
    const result = await during()
    const { profile } = (await call('Profiler.stop', {}, 180_000)) as { profile: CpuProfile }
    return { profile, result }
  } finally {
    socket.close()
    await sleep(50)
  }
}

interface Located {
  source: string
  fn: string
  own: boolean
}

/** Each node's original source and function, through the bundle's source map; cached per node. */
function locator(bundlePath: string | undefined): (node: ProfileNode) => Located {
  const map = bundlePath ? loadSourceMap(bundlePath) : undefined
  const located = new Map<number, Located>()
  return (node: ProfileNode) => {
    let hit = located.get(node.id)
    if (hit) return hit
    const frame = node.callFrame
    let source = frame.url ? frame.url.replace(/^file:\/\//, '') : frame.functionName || '(native)'
    let line = frame.lineNumber
    if (map && frame.url.endsWith(bundlePath!)) {
      const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
        originalSource?: string
        originalLine?: number
      }
      if (entry.originalSource) {
        source = shortSource(entry.originalSource)
        line = entry.originalLine ?? line
      }
    }
    const own = !source.includes('node_modules') && /(^|\/)(edge|durable)\//.test(source)
    hit = {
      source,
      fn: `${frame.functionName || '(anonymous)'} ${source.split('/').slice(-2).join('/')}:${line + 1}`,
      own,
    }
    located.set(node.id, hit)
    return hit
  }
}

function parents(profile: CpuProfile): Map<number, number> {
  const parent = new Map<number, number>()
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id)
  return parent
}

export function summariseProfile(profile: CpuProfile, bundlePath?: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = parents(profile)
  const locate = locator(bundlePath)

  const selfBySource = new Map<string, number>()
  const selfByFunction = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let wall = 0
  let idle = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    wall += ms
    const node = byId.get(profile.samples[i]!)
    if (!node) continue
    const name = node.callFrame.functionName
    if (name === '(idle)') {
      idle += ms
      continue
    }
    const here = locate(node)
    const group = name.startsWith('(') ? name : packageOf(here.source)
    selfBySource.set(group, (selfBySource.get(group) ?? 0) + ms)
    selfByFunction.set(here.fn, (selfByFunction.get(here.fn) ?? 0) + ms)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const at = locate(byId.get(id)!)
      if (at.own && !seen.has(at.fn)) {
        seen.add(at.fn)
        inclusive.set(at.fn, (inclusive.get(at.fn) ?? 0) + ms)
      }
    }
  }
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
  return {
    wallMs: wall,
    busyMs: wall - idle,
    selfBySource: top(selfBySource, 20).map(([source, ms]) => ({ source, ms })),
    inclusiveByFunction: top(inclusive, 30).map(([fn, ms]) => ({ fn, ms })),
    selfByFunction: top(selfByFunction, 30).map(([fn, ms]) => ({ fn, ms })),
  }
}

/**
 * The isolate's busy time, and the part of it whose entry is `entered(source)`: a sample's entry
 * is the outermost frame of Cairn's own code on its stack (edge/, durable/, domain/), which is
 * where a call into the isolate or an awaited continuation started. With the contact object's
 * files, that is the contact objects' CPU, their SQLite calls and the domain code they run
 * included, apart from the Worker's fetch handler and the queue consumer (entered in edge/).
 */
export function timeEntered(
  profile: CpuProfile,
  entered: (source: string) => boolean,
  bundlePath?: string,
): { busyMs: number; enteredMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = parents(profile)
  const locate = locator(bundlePath)
  const isOwn = (source: string) => /^(edge|durable|domain)\//.test(source)
  const entry = new Map<number, string | null>()
  const entryOf = (id: number): string | null => {
    let known = entry.get(id)
    if (known === undefined) {
      const up = parent.get(id)
      const above = up === undefined ? null : entryOf(up)
      const source = locate(byId.get(id)!).source
      known = above ?? (isOwn(source) ? source : null)
      entry.set(id, known)
    }
    return known
  }
  let busyMs = 0
  let enteredMs = 0
  profile.samples.forEach((id, i) => {
    const node = byId.get(id)
    if (!node || node.callFrame.functionName === '(idle)') return
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    busyMs += ms
    const source = entryOf(id)
    if (source !== null && entered(source)) enteredMs += ms
  })
  return { busyMs, enteredMs }
}

function loadSourceMap(bundlePath: string): SourceMap | undefined {
  try {
    return new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')))
  } catch {
    return undefined
  }
}

function shortSource(source: string): string {
  const modules = source.lastIndexOf('node_modules/')
  if (modules >= 0) return source.slice(modules)
  return source.replace(/^(\.\.\/)+/, '').replace(/^.*\/work\/main\//, '')
}

function packageOf(source: string): string {
  const match = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  return match ? match[1]! : source
}
