import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'

/**
 * Starts the Worker locally under `wrangler dev` (workerd with local DOs, D1, R2 and Queues)
 * after applying the D1 migrations to the same state folder. Shared by `npm start`, the Node
 * end-to-end tests and the browser tests, so all of them run the stack the same way.
 */
export interface LocalStack {
  url: string
  adminKey: string
  stop(): Promise<void>
}

export interface LocalStackOptions {
  port: number
  persistTo: string
  adminKey?: string
  /** Show wrangler's own output (npm start) instead of keeping it for error reports (tests). */
  inheritOutput?: boolean
}

const WRANGLER = 'node_modules/.bin/wrangler'

export function generateKey(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const adminKey = options.adminKey ?? generateKey('sk_admin')
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_D1_WARNING: 'true' }
  const migrate = spawnSync(
    WRANGLER,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', options.persistTo],
    { env, encoding: 'utf8' },
  )
  if (migrate.status !== 0) {
    throw new Error(`D1 migrations failed:\n${migrate.stdout}\n${migrate.stderr}`)
  }
  const child = spawn(
    WRANGLER,
    [
      'dev',
      '--port',
      String(options.port),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      options.persistTo,
      '--var',
      `CAIRN_ADMIN_KEY:${adminKey}`,
      '--var',
      `CAIRN_IP_SALT:${generateKey('salt')}`,
      '--show-interactive-dev-session=false',
    ],
    {
      env,
      stdio: options.inheritOutput ? ['ignore', 'inherit', 'inherit'] : 'pipe',
      detached: true,
    },
  )
  let output = ''
  child.stdout?.on('data', (chunk) => (output += chunk))
  child.stderr?.on('data', (chunk) => (output += chunk))
  const url = `http://127.0.0.1:${options.port}`
  try {
    await waitForHealth(url, child, 60_000)
  } catch (error) {
    await stopProcess(child)
    throw new Error(`${(error as Error).message}\n--- wrangler output ---\n${output}`)
  }
  return { url, adminKey, stop: () => stopProcess(child) }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`)
    try {
      const response = await fetch(`${url}/healthz`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`the local stack did not answer ${url}/healthz within ${timeoutMs} ms`)
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
      resolve()
    }, 5_000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    try {
      process.kill(-child.pid!, 'SIGTERM')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}
