import type { ContactProfile } from '../../contracts/contact-profile'
import type { Attempt, MessageStatus } from '../../contracts/messaging'
import type { Facet } from '../facet'
import { iso } from '../facet'

/**
 * The contact's messages, the message events segments count, and its subscription choices
 * (docs/design/messaging.md). The tables are made by the first message or choice, not by the
 * contact's migrations: most contacts are visitors who never get an email, and each table costs
 * every contact that holds it a page of storage.
 */

export type MessageRow = {
  id: string
  idempotency_key: string
  template_id: string
  journey_id: string | null
  kind: 'marketing' | 'transactional'
  group_id: string
  /** A status of contracts/messaging.ts; `queued` while it may still go. */
  status: MessageStatus
  reason: string | null
  attempts: string
  subject: string | null
  /** JSON `{ data, event }`: what the send renders with besides the contact. */
  payload: string
  due_at: number | null
  dispatched_at: number | null
  /** A send consumer holds the message until then (docs/design/messaging.md, "exactly one"). */
  lease_until: number | null
  created_at: number
  updated_at: number
  sent_at: number | null
  provider_message_id: string | null
  /** Moves with every change, so D1 never takes an older report over a newer. */
  version: number
}

export type MessageEventRow = {
  id: string
  message_id: string
  kind: string
  template_id: string | null
  at: number
}

export type SubscriptionRow = {
  group_id: string
  subscribed: number
  updated_at: number
  source: string
}

export interface MessagingPart {
  messages: MessageRow[]
  messageEvents: MessageEventRow[]
  subscriptions: SubscriptionRow[]
}

const TABLES = ['messages', 'message_events', 'subscriptions'] as const

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    template_id TEXT NOT NULL,
    journey_id TEXT,
    kind TEXT NOT NULL,
    group_id TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    attempts TEXT NOT NULL,
    subject TEXT,
    payload TEXT NOT NULL,
    due_at INTEGER,
    dispatched_at INTEGER,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER,
    provider_message_id TEXT,
    version INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS message_events (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    template_id TEXT,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS subscriptions (
    group_id TEXT PRIMARY KEY,
    subscribed INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    source TEXT NOT NULL
  ) WITHOUT ROWID;`

/** Statuses in which a message still counts toward the frequency cap. */
const COUNTED = ['queued', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'complained']

export class Messaging implements Facet<MessagingPart> {
  private present?: boolean

  constructor(private readonly sql: SqlStorage) {}

  /** Only the tables that exist: an erasure counts them, a completed hand-over empties them. */
  get tables(): readonly string[] {
    return this.exists() ? TABLES : []
  }

  prime() {}

  primeNew() {
    this.present = false
  }

  forget() {
    this.present = undefined
  }

  /** Creates the tables on the first message or choice; call inside the transaction. */
  ensure() {
    if (this.exists()) return
    this.sql.exec(SCHEMA)
    this.present = true
  }

  message(id: string): MessageRow | undefined {
    if (!this.exists()) return undefined
    return this.sql.exec<MessageRow>('SELECT * FROM messages WHERE id = ?', id).toArray()[0]
  }

  byIdempotencyKey(key: string): MessageRow | undefined {
    if (!this.exists()) return undefined
    return this.sql
      .exec<MessageRow>('SELECT * FROM messages WHERE idempotency_key = ?', key)
      .toArray()[0]
  }

  insert(row: MessageRow) {
    this.ensure()
    const columns = Object.keys(row)
    this.sql.exec(
      `INSERT INTO messages (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ...Object.values(row),
    )
  }

  /** Changes a message and moves its version; the row as it is now. */
  update(id: string, change: Partial<MessageRow>, now: number): MessageRow {
    const sets = Object.keys(change).map((column) => `${column} = ?`)
    return this.sql
      .exec<MessageRow>(
        `UPDATE messages SET ${[...sets, 'updated_at = ?', 'version = version + 1'].join(', ')}
         WHERE id = ? RETURNING *`,
        ...Object.values(change),
        now,
        id,
      )
      .one()
  }

  /** When each marketing message within the window went out (or was queued to). */
  marketingSince(since: number): number[] {
    if (!this.exists()) return []
    return this.sql
      .exec<{ at: number }>(
        `SELECT COALESCE(sent_at, created_at) AS at FROM messages
         WHERE kind = 'marketing' AND status IN (${COUNTED.map(() => '?').join(', ')})
           AND COALESCE(sent_at, created_at) > ?`,
        ...COUNTED,
        since,
      )
      .toArray()
      .map((row) => row.at)
  }

  /** Queued messages due by `now` that no queue message is known to carry. */
  dispatchable(now: number, redispatchBefore: number): MessageRow[] {
    if (!this.exists()) return []
    return this.sql
      .exec<MessageRow>(
        `SELECT * FROM messages WHERE status = 'queued' AND due_at <= ?
           AND (dispatched_at IS NULL OR dispatched_at < ?)
           AND (lease_until IS NULL OR lease_until < ?)`,
        now,
        redispatchBefore,
        now,
      )
      .toArray()
  }

  /** The earliest time a queued message becomes due after `now`, or null. */
  nextDue(now: number): number | null {
    if (!this.exists()) return null
    return this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(due_at) AS at FROM messages WHERE status = 'queued' AND due_at > ?",
        now,
      )
      .one().at
  }

  /** Records a message event once (its id); whether it was new. */
  addEvent(row: MessageEventRow): boolean {
    this.ensure()
    return (
      this.sql.exec(
        `INSERT OR IGNORE INTO message_events (id, message_id, kind, template_id, at)
           VALUES (?, ?, ?, ?, ?)`,
        row.id,
        row.message_id,
        row.kind,
        row.template_id,
        row.at,
      ).rowsWritten > 0
    )
  }

  /** Message events of a kind, as `{ "message": … }` segment rules count them. */
  events(kind: string): { template: string | null; at: number }[] {
    if (!this.exists()) return []
    return this.sql
      .exec<{ template: string | null; at: number }>(
        'SELECT template_id AS template, at FROM message_events WHERE kind = ?',
        kind,
      )
      .toArray()
  }

  /** The contact's explicit choice for a group, or null when it never chose. */
  choice(groupId: string): boolean | null {
    if (!this.exists()) return null
    const row = this.sql
      .exec<{ subscribed: number }>(
        'SELECT subscribed FROM subscriptions WHERE group_id = ?',
        groupId,
      )
      .toArray()[0]
    return row ? row.subscribed === 1 : null
  }

  choices(): Record<string, boolean> {
    if (!this.exists()) return {}
    return Object.fromEntries(
      this.sql
        .exec<SubscriptionRow>('SELECT group_id, subscribed FROM subscriptions')
        .toArray()
        .map((row) => [row.group_id, row.subscribed === 1]),
    )
  }

  /** Records a choice; whether it changed anything. */
  choose(groupId: string, subscribed: boolean, source: string, now: number): boolean {
    if (this.choice(groupId) === subscribed) return false
    this.ensure()
    this.sql.exec(
      `INSERT INTO subscriptions (group_id, subscribed, updated_at, source) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET subscribed = excluded.subscribed,
         updated_at = excluded.updated_at, source = excluded.source`,
      groupId,
      subscribed ? 1 : 0,
      now,
      source,
    )
    return true
  }

  handOver(): MessagingPart {
    if (!this.exists()) return { messages: [], messageEvents: [], subscriptions: [] }
    return {
      messages: this.sql.exec<MessageRow>('SELECT * FROM messages').toArray(),
      messageEvents: this.sql.exec<MessageEventRow>('SELECT * FROM message_events').toArray(),
      subscriptions: this.sql.exec<SubscriptionRow>('SELECT * FROM subscriptions').toArray(),
    }
  }

  /**
   * An absorbed contact's messages and message events join this contact's; of two choices for
   * one group the later stands, as it would had one person made both under one identity.
   */
  absorb(part: MessagingPart) {
    if (!part.messages.length && !part.messageEvents.length && !part.subscriptions.length) return
    this.ensure()
    for (const row of part.messages) {
      const columns = Object.keys(row)
      this.sql.exec(
        `INSERT OR IGNORE INTO messages (${columns.join(', ')})
         VALUES (${columns.map(() => '?').join(', ')})`,
        ...Object.values(row),
      )
    }
    for (const row of part.messageEvents) this.addEvent(row)
    for (const row of part.subscriptions) {
      this.sql.exec(
        `INSERT INTO subscriptions (group_id, subscribed, updated_at, source) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id) DO UPDATE SET subscribed = excluded.subscribed,
           updated_at = excluded.updated_at, source = excluded.source
         WHERE excluded.updated_at > subscriptions.updated_at`,
        row.group_id,
        row.subscribed,
        row.updated_at,
        row.source,
      )
    }
  }

  profile(): Pick<ContactProfile, 'subscriptions' | 'messages'> {
    if (!this.exists()) return { subscriptions: {}, messages: [] }
    const recent = this.sql
      .exec<MessageRow>('SELECT * FROM messages ORDER BY created_at DESC LIMIT 20')
      .toArray()
    return {
      subscriptions: this.choices(),
      messages: recent.map((row) => ({
        id: row.id,
        template: row.template_id,
        subject: row.subject,
        status: row.status,
        reason: row.reason,
        attempts: JSON.parse(row.attempts) as Attempt[],
        journeyId: row.journey_id,
        createdAt: iso(row.created_at),
      })),
    }
  }

  private exists(): boolean {
    this.present ??=
      this.sql
        .exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'")
        .toArray().length > 0
    return this.present
  }
}
