import type { ContactProfile } from '../../contracts/contact-profile'
import type { JourneyRunMessage } from '../../contracts/queue-messages'
import type { Run, RunState, Step } from '../../domain/journeys/engine'
import type { Facet } from '../facet'
import { iso } from '../facet'

/**
 * The contact's journey runs and each run's step log (docs/design/journeys.md). Like messaging's,
 * the tables are made by the contact's first run: most contacts never enter a journey, and each
 * table costs every contact holding it a page of storage. Active runs are kept in memory once
 * read: every change of the contact offers them its events.
 */

type RunRow = {
  id: string
  journey_id: string
  version: number
  state: RunState
  node: string
  wake_at: number | null
  waiting_since: number | null
  steps: number
  entered_at: number
  ended_at: number | null
  converted: number
  reason: string | null
  paths: string
  data: string
  trigger: string | null
  /** Step log lines written so far (their seq). */
  logged: number
}

type StepRow = {
  run_id: string
  seq: number
  at: number
  node: string
  type: string
  outcome: string
  next: string | null
}

export interface JourneysPart {
  runs: RunRow[]
  steps: StepRow[]
}

/** A run as the API shows it (`GET /api/contacts/:id/journeys`), with its step log. */
export interface RunView {
  id: string
  journeyId: string
  version: number
  state: RunState
  node: string
  waitingUntil: string | null
  converted: boolean
  reason: string | null
  paths: Record<string, string>
  enteredAt: string
  endedAt: string | null
  steps: { at: string; node: string; type: string; outcome: string; next: string | null }[]
}

const TABLES = ['journey_runs', 'journey_steps'] as const

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS journey_runs (
    id TEXT PRIMARY KEY,
    journey_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    node TEXT NOT NULL,
    wake_at INTEGER,
    waiting_since INTEGER,
    steps INTEGER NOT NULL,
    entered_at INTEGER NOT NULL,
    ended_at INTEGER,
    converted INTEGER NOT NULL,
    reason TEXT,
    paths TEXT NOT NULL,
    data TEXT NOT NULL,
    trigger TEXT,
    logged INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS journey_steps (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    node TEXT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    next TEXT,
    PRIMARY KEY (run_id, seq)
  ) WITHOUT ROWID;`

/** Steps kept per run: a run looping through waits for months logs without end. */
const STEPS_KEPT = 500

export class Journeys implements Facet<JourneysPart> {
  private present?: boolean
  /** Active runs by id, once read. */
  private activeRuns?: Map<string, Run>
  /** Runs whose log lines were written this far, once read (id → logged). */
  private logged = new Map<string, number>()

  constructor(private readonly sql: SqlStorage) {}

  get tables(): readonly string[] {
    return this.exists() ? TABLES : []
  }

  prime() {}

  primeNew() {
    this.present = false
    this.activeRuns = new Map()
  }

  forget() {
    this.present = undefined
    this.activeRuns = undefined
    this.logged.clear()
  }

  /** The runs still under way, oldest first. */
  active(): Run[] {
    return [...this.activeMap().values()].sort((a, b) => a.enteredAt - b.enteredAt)
  }

  run(id: string): Run | undefined {
    const active = this.activeMap().get(id)
    if (active || !this.exists()) return active
    const row = this.sql.exec<RunRow>('SELECT * FROM journey_runs WHERE id = ?', id).toArray()[0]
    return row ? toRun(row) : undefined
  }

  /** Every run of a journey, for re-entry rules. */
  runsOf(journeyId: string): Pick<Run, 'state' | 'enteredAt' | 'endedAt'>[] {
    if (!this.exists()) return []
    return this.sql
      .exec<{ state: RunState; entered_at: number; ended_at: number | null }>(
        'SELECT state, entered_at, ended_at FROM journey_runs WHERE journey_id = ?',
        journeyId,
      )
      .toArray()
      .map((row) => ({ state: row.state, enteredAt: row.entered_at, endedAt: row.ended_at }))
  }

  /** The state of each run of a journey, as `{ "journey": … }` segment rules read them. */
  states(journeyId: string): RunState[] {
    if (!this.exists()) return []
    return this.sql
      .exec<{ state: RunState }>('SELECT state FROM journey_runs WHERE journey_id = ?', journeyId)
      .toArray()
      .map((row) => row.state)
  }

  /**
   * Writes a run as it is now and appends its new log lines; call inside the transaction.
   * Answers the report D1's journey_runs and journey_steps take.
   */
  save(key: string, run: Run, steps: readonly Step[], now: number): JourneyRunMessage {
    this.ensure()
    const from = this.loggedOf(run.id)
    const numbered = steps.map((step, i) => ({ ...step, seq: from + i + 1 }))
    const logged = from + steps.length
    // A run still held where it was keeps the time its wait began.
    const previous = this.activeMap().get(run.id)
    const stillWaiting = previous?.wakeAt != null && previous.node === run.node
    const waitingSince =
      run.wakeAt === null ? null : stillWaiting ? (this.waitingSince(run.id) ?? now) : now
    this.sql.exec(
      `INSERT INTO journey_runs (id, journey_id, version, state, node, wake_at, waiting_since,
         steps, entered_at, ended_at, converted, reason, paths, data, trigger, logged)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, state = excluded.state,
         node = excluded.node, wake_at = excluded.wake_at, waiting_since = excluded.waiting_since,
         steps = excluded.steps, ended_at = excluded.ended_at, converted = excluded.converted,
         reason = excluded.reason, paths = excluded.paths, logged = excluded.logged`,
      run.id,
      run.journeyId,
      run.version,
      run.state,
      run.node,
      run.wakeAt,
      waitingSince,
      run.steps,
      run.enteredAt,
      run.endedAt,
      run.converted ? 1 : 0,
      run.reason,
      JSON.stringify(run.paths),
      JSON.stringify(run.data),
      run.trigger ? JSON.stringify(run.trigger) : null,
      logged,
    )
    for (const step of numbered) {
      this.sql.exec(
        `INSERT OR IGNORE INTO journey_steps (run_id, seq, at, node, type, outcome, next)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        run.id,
        step.seq,
        step.at,
        step.node,
        step.type,
        step.outcome,
        step.next ?? null,
      )
    }
    if (logged > STEPS_KEPT) {
      this.sql.exec(
        'DELETE FROM journey_steps WHERE run_id = ? AND seq <= ?',
        run.id,
        logged - STEPS_KEPT,
      )
    }
    this.logged.set(run.id, logged)
    const active = this.activeMap()
    if (run.state === 'active') active.set(run.id, run)
    else active.delete(run.id)
    return {
      kind: 'journey-run',
      contactKey: key,
      run: {
        id: run.id,
        journeyId: run.journeyId,
        version: run.version,
        state: run.state,
        node: run.node,
        waiting: run.wakeAt !== null,
        converted: run.converted,
        reason: run.reason,
        paths: run.paths,
        enteredAt: iso(run.enteredAt),
        endedAt: run.endedAt === null ? null : iso(run.endedAt),
      },
      steps: numbered.map((step) => ({
        seq: step.seq,
        at: iso(step.at),
        node: step.node,
        type: step.type,
        outcome: step.outcome,
        next: step.next ?? null,
      })),
      at: iso(now),
    }
  }

  /** When the run began waiting where it waits now (a resumed pause looks for events since). */
  waitingSince(runId: string): number | null {
    if (!this.exists()) return null
    const row = this.sql
      .exec<{ since: number | null }>(
        'SELECT waiting_since AS since FROM journey_runs WHERE id = ?',
        runId,
      )
      .toArray()[0]
    return row?.since ?? null
  }

  /** Runs with their step logs, newest first (the API and the DSAR export). */
  views(limit = 50): RunView[] {
    if (!this.exists()) return []
    const runs = this.sql
      .exec<RunRow>('SELECT * FROM journey_runs ORDER BY entered_at DESC LIMIT ?', limit)
      .toArray()
    return runs.map((row) => {
      const steps = this.sql
        .exec<StepRow>('SELECT * FROM journey_steps WHERE run_id = ? ORDER BY seq', row.id)
        .toArray()
      return {
        id: row.id,
        journeyId: row.journey_id,
        version: row.version,
        state: row.state,
        node: row.node,
        waitingUntil: row.wake_at === null ? null : iso(row.wake_at),
        converted: row.converted === 1,
        reason: row.reason,
        paths: JSON.parse(row.paths) as Record<string, string>,
        enteredAt: iso(row.entered_at),
        endedAt: row.ended_at === null ? null : iso(row.ended_at),
        steps: steps.map((step) => ({
          at: iso(step.at),
          node: step.node,
          type: step.type,
          outcome: step.outcome,
          next: step.next,
        })),
      }
    })
  }

  handOver(): JourneysPart {
    if (!this.exists()) return { runs: [], steps: [] }
    return {
      runs: this.sql.exec<RunRow>('SELECT * FROM journey_runs').toArray(),
      steps: this.sql.exec<StepRow>('SELECT * FROM journey_steps').toArray(),
    }
  }

  /**
   * The absorbed contact's runs continue here, where the person now is. Of two runs of one
   * journey under way at once (the person entered it under both identities) the earlier stays;
   * the other ends, as one person is in a journey once.
   */
  absorb(part: JourneysPart) {
    if (part.runs.length === 0) return
    this.ensure()
    const activeJourneys = new Set(this.active().map((run) => run.journeyId))
    for (const row of [...part.runs].sort((a, b) => a.entered_at - b.entered_at)) {
      const duplicate = row.state === 'active' && activeJourneys.has(row.journey_id)
      const stored = duplicate
        ? { ...row, state: 'exited' as const, wake_at: null, reason: 'merged into another run' }
        : row
      if (stored.state === 'active') activeJourneys.add(stored.journey_id)
      const columns = Object.keys(stored)
      this.sql.exec(
        `INSERT OR IGNORE INTO journey_runs (${columns.join(', ')})
         VALUES (${columns.map(() => '?').join(', ')})`,
        ...Object.values(stored),
      )
    }
    for (const step of part.steps) {
      this.sql.exec(
        `INSERT OR IGNORE INTO journey_steps (run_id, seq, at, node, type, outcome, next)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        step.run_id,
        step.seq,
        step.at,
        step.node,
        step.type,
        step.outcome,
        step.next,
      )
    }
    this.activeRuns = undefined
    this.logged.clear()
  }

  profile(): Pick<ContactProfile, 'journeys'> {
    return { journeys: this.views() }
  }

  private loggedOf(runId: string): number {
    const known = this.logged.get(runId)
    if (known !== undefined) return known
    const row = this.sql
      .exec<{ logged: number }>('SELECT logged FROM journey_runs WHERE id = ?', runId)
      .toArray()[0]
    return row?.logged ?? 0
  }

  private ensure() {
    if (this.exists()) return
    this.sql.exec(SCHEMA)
    this.present = true
  }

  private activeMap(): Map<string, Run> {
    this.activeRuns ??= this.exists()
      ? new Map(
          this.sql
            .exec<RunRow>("SELECT * FROM journey_runs WHERE state = 'active'")
            .toArray()
            .map((row) => [row.id, toRun(row)]),
        )
      : new Map()
    return this.activeRuns
  }

  private exists(): boolean {
    this.present ??=
      this.sql
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journey_runs'")
        .toArray().length > 0
    return this.present
  }
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    journeyId: row.journey_id,
    version: row.version,
    state: row.state,
    node: row.node,
    wakeAt: row.wake_at,
    steps: row.steps,
    enteredAt: row.entered_at,
    endedAt: row.ended_at,
    converted: row.converted === 1,
    reason: row.reason,
    paths: JSON.parse(row.paths) as Record<string, string>,
    data: JSON.parse(row.data) as Record<string, unknown>,
    trigger: row.trigger ? (JSON.parse(row.trigger) as Record<string, unknown>) : null,
  }
}
