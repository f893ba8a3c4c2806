import { DurableObject } from 'cloudflare:workers'
import {
  available,
  CLOSED,
  grantProbe,
  recordOutcome,
  type Circuit,
  type Decision,
} from '../domain/messaging/circuit'
import type { Env } from '../edge/env'

/** One provider's outcome for the messages of a queue batch, in the order they were sent. */
export interface ProviderOutcome {
  id: string
  ok: boolean
  /** With ok false: a 5xx, 429, timeout or network failure (true) or a refused message (false). */
  retryable: boolean
}

interface CircuitRow extends Record<string, SqlStorageValue> {
  id: string
  state: Circuit['state']
  failures: number
  open_until: number | null
  cool_down_ms: number
  probe_lease_until: number | null
}

/**
 * The email providers' circuit breakers (domain/messaging/circuit.ts), one per provider id, in
 * one object so every isolate sees the same circuits: a breaker per isolate would let each of
 * them find out for itself that a provider is down, and grant a probe each. The send consumer
 * asks once per queue batch which providers to use and reports once per batch how they did.
 *
 * RPC calls run one at a time and nothing here awaits, so two callers asking at once for a
 * provider due a probe cannot both get it.
 */
export class ProviderHealth extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS circuits (
         id TEXT PRIMARY KEY,
         state TEXT NOT NULL,
         failures INTEGER NOT NULL,
         open_until INTEGER,
         cool_down_ms INTEGER NOT NULL,
         probe_lease_until INTEGER)`,
    )
  }

  /** Whether to use, probe or skip each provider; a provider due a probe is probed by one caller. */
  decide(ids: string[], now = Date.now()): Record<string, Decision> {
    const decisions: Record<string, Decision> = {}
    for (const id of ids) {
      const circuit = this.circuit(id)
      const decision = available(circuit, now)
      if (decision === 'probe') this.store(id, grantProbe(circuit, now))
      decisions[id] = decision
    }
    return decisions
  }

  report(outcomes: ProviderOutcome[], now = Date.now()): void {
    const circuits = new Map<string, Circuit>()
    for (const { id, ok, retryable } of outcomes) {
      circuits.set(id, recordOutcome(circuits.get(id) ?? this.circuit(id), { ok, retryable }, now))
    }
    for (const [id, circuit] of circuits) this.store(id, circuit)
  }

  /** Every provider reported on so far; one never reported on is closed. */
  states(): Record<string, Circuit> {
    const rows = this.ctx.storage.sql.exec<CircuitRow>('SELECT * FROM circuits ORDER BY id')
    return Object.fromEntries([...rows].map((row) => [row.id, circuitOf(row)]))
  }

  private circuit(id: string): Circuit {
    const [row] = this.ctx.storage.sql
      .exec<CircuitRow>('SELECT * FROM circuits WHERE id = ?', id)
      .toArray()
    return row ? circuitOf(row) : CLOSED
  }

  private store(id: string, circuit: Circuit) {
    this.ctx.storage.sql.exec(
      `INSERT OR REPLACE INTO circuits
         (id, state, failures, open_until, cool_down_ms, probe_lease_until)
       VALUES (?, ?, ?, ?, ?, ?)`,
      id,
      circuit.state,
      circuit.failures,
      circuit.openUntil,
      circuit.coolDownMs,
      circuit.probeLeaseUntil,
    )
  }
}

function circuitOf(row: CircuitRow): Circuit {
  return {
    state: row.state,
    failures: row.failures,
    openUntil: row.open_until,
    coolDownMs: row.cool_down_ms,
    probeLeaseUntil: row.probe_lease_until,
  }
}

/** The one object every isolate asks. */
export function providerHealth(env: Pick<Env, 'PROVIDER_HEALTH'>) {
  return env.PROVIDER_HEALTH.get(env.PROVIDER_HEALTH.idFromName('providers'))
}
