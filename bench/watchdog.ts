import { Worker } from 'node:worker_threads'

/**
 * The --max-minutes cap, kept in a thread of its own. The bench reads D1 through miniflare's
 * proxy, and part of that proxy blocks the main thread until workerd answers; a workerd that
 * stops answering (seen locally once thousands of Durable Objects are open) would otherwise
 * hang the bench for good, its own timers included. On expiry it says so, stops workerd (the
 * main process's children) and the main process.
 */
const WATCHDOG = `
const { workerData } = require('node:worker_threads')
const { readdirSync, readFileSync, writeSync } = require('node:fs')
setTimeout(() => {
  writeSync(2, 'bench: exceeded --max-minutes=' + workerData.minutes + '; giving up\\n')
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue
    try {
      const stat = readFileSync('/proc/' + entry + '/stat', 'utf8')
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (parent === workerData.pid) process.kill(Number(entry), 'SIGKILL')
    } catch {}
  }
  process.kill(workerData.pid, 'SIGKILL')
}, workerData.minutes * 60000)
`

export function startWatchdog(minutes: number): void {
  const worker = new Worker(WATCHDOG, { eval: true, workerData: { pid: process.pid, minutes } })
  worker.unref()
}
