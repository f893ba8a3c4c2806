/** Progress lines on stderr, each stamped with the time since the bench started. */
const started = performance.now()

export function elapsed(): string {
  const total = Math.floor((performance.now() - started) / 1000)
  const m = Math.floor(total / 60)
  const s = total % 60
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
}

export function progress(phase: string, message: string): void {
  process.stderr.write(`[${elapsed()}] ${phase.padEnd(16)} ${message}\n`)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Rejects when `promise` takes longer than `ms`, so no step of the bench can hang it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
