import {
  effectiveConsent,
  type ConsentMethod,
  type ConsentState,
  type LedgerEntry,
  type Purpose,
  type Purposes,
} from '../domain/consent'
import type { ContactProfile } from '../contracts/contact-profile'
import type { ActivationState } from './activation'
import type { Facet } from './facet'

/** A ledger row as stored: who decided what, when, under which policy, how, from where. */
export interface LedgerRow extends LedgerEntry {
  /** The identifier the decision was recorded under (userId or anonymousId). */
  identity: string | null
  ipHash: string | null
  userAgentHash: string | null
}

export interface ConsentRecord {
  purposes: Purposes
  policyVersion: string
  source: string
  method: ConsentMethod
  identity?: string | null
  ipHash?: string | null
  userAgentHash?: string | null
  at?: string
}

/** The ContactDO's append-only consent ledger (table consent_ledger). */
export class ConsentLedger implements Facet<LedgerRow[]> {
  readonly tables = ['consent_ledger'] as const
  /** The effective state, read on every ingest: computed once per change, not per read. */
  private state?: ConsentState

  constructor(private readonly sql: SqlStorage) {}

  forget() {
    this.state = undefined
  }

  /** An object that woke knowing its ledger is empty (see activation.ts) reads no rows. */
  prime(state: Pick<ActivationState, 'consentRows'>) {
    if (state.consentRows === 0) this.state = effectiveConsent([])
  }

  handOver(): LedgerRow[] {
    return this.rows()
  }

  absorb(rows: LedgerRow[]) {
    this.import(rows)
  }

  profile(): Pick<ContactProfile, 'consent'> {
    return { consent: this.current() }
  }

  append(record: ConsentRecord): LedgerRow {
    const row: LedgerRow = {
      at: record.at ?? new Date().toISOString(),
      purposes: record.purposes,
      policyVersion: record.policyVersion,
      source: record.source,
      method: record.method,
      identity: record.identity ?? null,
      ipHash: record.ipHash ?? null,
      userAgentHash: record.userAgentHash ?? null,
    }
    this.sql.exec(
      `INSERT INTO consent_ledger (at, purposes, policy_version, source, method, identity, ip_hash,
       user_agent_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      row.at,
      JSON.stringify(row.purposes),
      row.policyVersion,
      row.source,
      row.method,
      row.identity,
      row.ipHash,
      row.userAgentHash,
    )
    this.state = undefined
    return row
  }

  rows(): LedgerRow[] {
    return this.sql
      .exec<{
        at: string
        purposes: string
        policy_version: string
        source: string
        method: string
        identity: string | null
        ip_hash: string | null
        user_agent_hash: string | null
      }>('SELECT * FROM consent_ledger ORDER BY at, seq')
      .toArray()
      .map((row) => ({
        at: row.at,
        purposes: JSON.parse(row.purposes) as Purposes,
        policyVersion: row.policy_version,
        source: row.source,
        method: row.method as ConsentMethod,
        identity: row.identity,
        ipHash: row.ip_hash,
        userAgentHash: row.user_agent_hash,
      }))
  }

  /**
   * CMPs and trackers resend the same decision on every page load; the ledger records changes
   * (a purpose decided differently, or a new policy version), not repetitions.
   */
  repeats(record: ConsentRecord): boolean {
    const rows = this.rows()
    const latest = rows[rows.length - 1]
    if (!latest || latest.policyVersion !== record.policyVersion) return false
    const current = effectiveConsent(rows)
    return Object.entries(record.purposes).every(
      ([purpose, granted]) => current[purpose as Purpose] === granted,
    )
  }

  current(): ConsentState {
    this.state ??= effectiveConsent(this.rows())
    return this.state
  }

  /** Rows handed over by an absorbed contact keep their own times and provenance. */
  import(rows: LedgerRow[]) {
    for (const row of rows) this.append(row)
  }
}
