import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs'

/**
 * Starts the Worker locally under `wrangler dev` (workerd with local DOs, D1, R2 and Queues)
 * after applying the D1 migrations to the same state folder. Shared by `npm start`, the Node
 * end-to-end tests and the browser tests, so all of them run the stack the same way.
 */
export interface LocalStack {
  url: string
  adminKey: string
  /** Where an outdated state was moved (see `moveOutdatedState`), and the tables it lacked. */
  movedAside?: { to: string; missingTables: string[] }
  /** wrangler's pid, leader of a process group that holds workerd too (a crash test kills it). */
  pid: number
  stop(): Promise<void>
}

export interface LocalStackOptions {
  port: number
  persistTo: string
  adminKey?: string
  /** Show wrangler's own output (npm start) instead of keeping it for error reports (tests). */
  inheritOutput?: boolean
  /**
   * For a state kept between runs: if, with the migrations applied, D1 lacks tables they create
   * (it was built before they were last rewritten), move the folder aside, never delete it since
   * it may hold data of the user's own, and start on a fresh one.
   */
  moveOutdatedState?: boolean
}

const WRANGLER = 'node_modules/.bin/wrangler'
const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CI: 'true',
  NO_D1_WARNING: 'true',
}

export function generateKey(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`
}

/**
 * The identifier-hash key lives with the state it keys (the suppression list, the audit log):
 * a new key per start would leave every earlier suppression unmatched.
 */
function stateHashKey(persistTo: string): string {
  const file = `${persistTo}/cairn-hash-key`
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const key = generateKey('hk')
  mkdirSync(persistTo, { recursive: true })
  writeFileSync(file, key, { mode: 0o600 })
  return key
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const adminKey = options.adminKey ?? generateKey('sk_admin')
  const { persistTo } = options
  applyMigrations(persistTo)
  let movedAside: LocalStack['movedAside']
  if (options.moveOutdatedState) {
    const missingTables = missingD1Tables(persistTo)
    if (missingTables.length > 0) {
      movedAside = {
        to: `${persistTo}-outdated-${new Date().toISOString().replace(/[:.]/g, '-')}`,
        missingTables,
      }
      renameSync(persistTo, movedAside.to)
      applyMigrations(persistTo)
    }
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
      '--var',
      `CAIRN_HASH_KEY:${stateHashKey(persistTo)}`,
      // Unsubscribe links in the emails the log provider keeps point at this stack.
      '--var',
      `CAIRN_PUBLIC_URL:http://127.0.0.1:${options.port}`,
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
  return { url, adminKey, movedAside, pid: child.pid!, stop: () => stopProcess(child) }
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
  const output = wrangler(
    'd1',
    'execute',
    'DB',
    '--local',
    '--persist-to',
    persistTo,
    '--json',
    '--command',
    sql,
  )
  const [answer] = JSON.parse(output) as { results: Row[] }[]
  return answer?.results ?? []
}

function applyMigrations(persistTo: string) {
  wrangler('d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persistTo)
}

/** Runs a wrangler command to its end; returns its output, or throws with all of it. */
function wrangler(...args: string[]): string {
  const run = spawnSync(WRANGLER, args, { env: WRANGLER_ENV, encoding: 'utf8' })
  if (run.status !== 0) {
    throw new Error(`wrangler ${args.slice(0, 3).join(' ')} failed:\n${run.stdout}\n${run.stderr}`)
  }
  return run.stdout
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

/** A port nothing listens on right now (other engineers' servers run on this machine too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
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
