import { readdirSync, readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/**
 * Where the CPU went during a run, from /proc (Linux only; elsewhere every figure is null):
 * the bench's own process (load generator), its children (workerd), and everything else on the
 * machine. Other work on a two-core machine skews throughput, so each run reports it.
 */
export interface CpuUsage {
  /** In cores: 1.0 is one core busy for the whole run. */
  generator: number | null
  runtime: number | null
  other: number | null
}

interface Snapshot {
  busy: number
  all: number
  self: number
  children: number
}

export function cpuSnapshot(): Snapshot | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number)
    const all = fields.reduce((a, b) => a + b, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    const self = processTime(process.pid) ?? 0
    let children = 0
    for (const pid of descendants(process.pid)) children += processTime(pid) ?? 0
    return { busy: all - idle, all, self, children }
  } catch {
    return null
  }
}

export function cpuUsage(before: Snapshot | null, after: Snapshot | null, cores: number): CpuUsage {
  if (!before || !after || after.all <= before.all)
    return { generator: null, runtime: null, other: null }
  const perCore = (after.all - before.all) / cores
  const generator = (after.self - before.self) / perCore
  const runtime = (after.children - before.children) / perCore
  const busy = (after.busy - before.busy) / perCore
  return { generator, runtime, other: Math.max(0, busy - generator - runtime) }
}

/** utime + stime of a process, all threads, in clock ticks. */
function processTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}

function descendants(root: number): number[] {
  const parent = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = []
  const queue = [root]
  while (queue.length > 0) {
    const pid = queue.pop()!
    for (const [child, ppid] of parent) {
      if (ppid === pid) {
        found.push(child)
        queue.push(child)
      }
    }
  }
  return found
}

/** Below this, workerd is only keeping time: the previous run's work is done. */
const RUNTIME_IDLE_CORES = 0.05

/**
 * Waits (bounded) until other processes use less than `threshold` cores and workerd itself is
 * idle, for two seconds in a row: other engineers' test runs share this machine, and a run
 * should not inherit the previous one's work (queue batches still being applied; evictions are
 * waited for before this, see api.ts evictionsBefore). Returns the last reading.
 */
export async function waitForQuiet(
  maxSeconds: number,
  threshold: number,
  onWait: (usage: CpuUsage, waited: number) => void,
): Promise<CpuUsage | null> {
  const cores = cpus().length
  const started = performance.now()
  let quietSeconds = 0
  let usage: CpuUsage | null = null
  while (performance.now() - started < maxSeconds * 1000) {
    const before = cpuSnapshot()
    await new Promise((resolve) => setTimeout(resolve, 1000))
    usage = cpuUsage(before, cpuSnapshot(), cores)
    if (usage.other === null) return null
    const quiet = usage.other < threshold && (usage.runtime ?? 0) < RUNTIME_IDLE_CORES
    quietSeconds = quiet ? quietSeconds + 1 : 0
    if (quietSeconds >= 2) return usage
    onWait(usage, (performance.now() - started) / 1000)
  }
  return usage
}
