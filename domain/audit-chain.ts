/**
 * The audit log's hash chain. Pure: no platform imports (WebCrypto is a web standard).
 * Each row carries the SHA-256 of the previous row's hash and its own content, so changing,
 * removing or reordering any row breaks every hash after it.
 */
// With its extension: the bench loads this module in Node, which resolves no other form.
import { hex } from './hex.ts'

export interface AuditContent {
  seq: number
  at: string
  actorKeyId: string
  actorRole: string
  action: string
  /** SHA-256 of the subject's canonical key: the log outlives an erasure without holding PII. */
  subjectHash: string | null
  status: number
  detail: Record<string, unknown> | null
}

export interface AuditRow extends AuditContent {
  prevHash: string
  hash: string
}

export const GENESIS_HASH = '0'.repeat(64)

export async function chainHash(prevHash: string, content: AuditContent): Promise<string> {
  const canonical = JSON.stringify([
    prevHash,
    content.seq,
    content.at,
    content.actorKeyId,
    content.actorRole,
    content.action,
    content.subjectHash,
    content.status,
    content.detail === null ? null : canonicalJson(content.detail),
  ])
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical))
  return hex(digest)
}

export type ChainVerdict =
  | { ok: true; rows: number; lastHash: string }
  | { ok: false; rows: number; firstBroken: { seq: number; reason: string } }

/** Checks rows in sequence order, continuing from `prev` (the last verified row, if any). */
export async function verifyChain(
  rows: AuditRow[],
  prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
): Promise<ChainVerdict> {
  let expectedSeq = prev.seq + 1
  let prevHash = prev.hash
  let checked = 0
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return broken(checked, expectedSeq, `row ${expectedSeq} is missing (found ${row.seq})`)
    }
    if (row.prevHash !== prevHash) {
      return broken(checked, row.seq, 'its previous-hash does not match the row before it')
    }
    if ((await chainHash(prevHash, row)) !== row.hash) {
      return broken(checked, row.seq, 'its content does not match its hash (the row was altered)')
    }
    prevHash = row.hash
    expectedSeq++
    checked++
  }
  return { ok: true, rows: checked, lastHash: prevHash }
}

function broken(rows: number, seq: number, reason: string): ChainVerdict {
  return { ok: false, rows, firstBroken: { seq, reason } }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort()
    return `{${keys
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value)
}
