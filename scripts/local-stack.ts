import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { readdirSync, readFileSync, renameSync } from 'node:fs'

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
  /**
   * Check, after applying the migrations, that D1 has every table they create (a state kept
   * from before they were last rewritten lacks some); throws OutdatedStateError if not.
   */
  verifySchema?: boolean
}

/** A stack on a persistent state; `movedAside` names where an outdated state was moved. */
export interface PersistentStack extends LocalStack {
  movedAside?: string
  missingTables?: string[]
}

/** The state folder holds a D1 database that older versions of the migrations built. */
export class OutdatedStateError extends Error {
  readonly missingTables: string[]

  constructor(missingTables: string[]) {
    super(`the local D1 database lacks tables the migrations create: ${missingTables.join(', ')}`)
    this.missingTables = missingTables
  }
}

const WRANGLER = 'node_modules/.bin/wrangler'

export function generateKey(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`
}

const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  NO_D1_WARNING: 'true',
}

/**
 * Starts on the state in `options.persistTo`, kept between runs. A state whose D1 database
 * lacks tables the migrations create (it was built before they were last rewritten) is moved
 * aside, never deleted since it may hold data of the user's own, and the stack starts on a
 * fresh one.
 */
export async function startOnCurrentState(options: LocalStackOptions): Promise<PersistentStack> {
  try {
    return await startLocalStack({ ...options, verifySchema: true })
  } catch (error) {
    if (!(error instanceof OutdatedStateError)) throw error
    const movedAside = `${options.persistTo}-outdated-${new Date().toISOString().replace(/[:.]/g, '-')}`
    renameSync(options.persistTo, movedAside)
    const stack = await startLocalStack(options)
    return { ...stack, movedAside, missingTables: error.missingTables }
  }
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const adminKey = options.adminKey ?? generateKey('sk_admin')
  const migrate = spawnSync(
    WRANGLER,
    ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', options.persistTo],
    { env: WRANGLER_ENV, encoding: 'utf8' },
  )
  if (migrate.status !== 0) {
    throw new Error(`D1 migrations failed:\n${migrate.stdout}\n${migrate.stderr}`)
  }
  if (options.verifySchema) {
    const missing = missingD1Tables(options.persistTo)
    if (missing.length > 0) throw new OutdatedStateError(missing)
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
      env: WRANGLER_ENV,
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

/** Tables the migrations in migrations/ leave behind that the local D1 database does not have. */
function missingD1Tables(persistTo: string): string[] {
  const present = new Set(
    executeLocalD1<{ name: string }>(
      persistTo,
      "SELECT name FROM sqlite_master WHERE type = 'table'",
    ).map((row) => row.name),
  )
  return [...tablesOfMigrations()].filter((table) => !present.has(table))
}

/** Runs SQL on the local D1 database in a state folder (wrangler d1 execute); returns its rows. */
export function executeLocalD1<Row>(persistTo: string, sql: string): Row[] {
  const run = spawnSync(
    WRANGLER,
    ['d1', 'execute', 'DB', '--local', '--persist-to', persistTo, '--json', '--command', sql],
    { env: WRANGLER_ENV, encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`wrangler d1 execute failed:\n${run.stdout}\n${run.stderr}`)
  const [answer] = JSON.parse(run.stdout) as { results: Row[] }[]
  return answer?.results ?? []
}

function tablesOfMigrations(): Set<string> {
  const tables = new Set<string>()
  const files = readdirSync('migrations').filter((name) => name.endsWith('.sql'))
  for (const file of files.sort()) {
    const text = readFileSync(`migrations/${file}`, 'utf8')
    for (const [, verb, table] of text.matchAll(
      /(CREATE|DROP) TABLE (?:IF (?:NOT )?EXISTS )?[`"]?(\w+)/gi,
    )) {
      if (verb!.toUpperCase() === 'CREATE') tables.add(table!)
      else tables.delete(table!)
    }
  }
  return tables
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

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      )
    })
  })
}
