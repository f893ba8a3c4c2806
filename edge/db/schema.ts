import { sql } from 'drizzle-orm'
import { ROLES, type Role } from '../access/roles'
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * D1 holds what must be queried across contacts. It is fed in batches by the queue consumer;
 * the ContactDOs stay the system of record for each contact.
 */

export const sources = sqliteTable('sources', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  writeKey: text('write_key').notNull().unique(),
  allowedOrigins: text('allowed_origins', { mode: 'json' }).$type<string[]>().notNull(),
  consentMode: text('consent_mode', { enum: ['opt-in', 'opt-out'] }).notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: text('created_at').notNull(),
})

export const contacts = sqliteTable(
  'contacts',
  {
    key: text('key').primaryKey(),
    userId: text('user_id'),
    email: text('email'),
    anonymousIds: text('anonymous_ids', { mode: 'json' }).$type<string[]>().notNull(),
    traits: text('traits', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    firstSeen: text('first_seen').notNull(),
    lastSeen: text('last_seen').notNull(),
    eventCount: integer('event_count').notNull(),
    version: integer('version').notNull(),
    mergedInto: text('merged_into'),
    /** Hash of the key that random-bucket segment rules start from (domain/segments/bucket.ts). */
    bucketSeed: integer('bucket_seed'),
  },
  (t) => [
    index('contacts_by_last_seen').on(t.lastSeen, t.key),
    index('contacts_by_email').on(t.email),
  ],
)

export const identities = sqliteTable(
  'identities',
  {
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    contactKey: text('contact_key').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.kind, t.value] }),
    index('identities_by_contact').on(t.contactKey),
  ],
)

/** Anonymous contacts absorbed by identified ones; events arriving late are re-keyed through it. */
export const merges = sqliteTable('merges', {
  fromKey: text('from_key').primaryKey(),
  intoKey: text('into_key').notNull(),
  mergedAt: text('merged_at').notNull(),
})

export const events = sqliteTable(
  'events',
  {
    id: text('id').primaryKey(),
    messageId: text('message_id').notNull(),
    contactKey: text('contact_key').notNull(),
    sourceId: text('source_id').notNull(),
    type: text('type').notNull(),
    event: text('event'),
    userId: text('user_id'),
    anonymousId: text('anonymous_id'),
    timestamp: text('timestamp').notNull(),
    receivedAt: text('received_at').notNull(),
    day: text('day').notNull(),
    path: text('path'),
    /** 1 when the event starts a visit (no referrer from the same site): counts visits by channel. */
    landing: integer('landing', { mode: 'boolean' }).notNull(),
    referrerDomain: text('referrer_domain'),
    channel: text('channel'),
    country: text('country'),
    browser: text('browser'),
    os: text('os'),
    device: text('device'),
    bot: integer('bot', { mode: 'boolean' }).notNull(),
    properties: text('properties', { mode: 'json' }),
    context: text('context', { mode: 'json' }),
    /** 0 until the rollups have counted this row (see queue/consumer.ts). */
    rolledUp: integer('rolled_up').notNull().default(0),
  },
  (t) => [
    index('events_by_contact').on(t.contactKey, t.timestamp),
    index('events_by_time').on(t.timestamp),
    // Segment rules count a contact's events of one name in a window (domain/segments/sql.ts).
    index('events_by_name').on(t.event, t.timestamp),
    index('events_pending_rollup')
      .on(t.rolledUp)
      .where(sql`rolled_up = 0`),
  ],
)

/** Additive daily counts without identifiers: they survive erasure and retention. */
export const dailyRollups = sqliteTable(
  'daily_rollups',
  {
    day: text('day').notNull(),
    metric: text('metric').notNull(),
    dimension: text('dimension').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.metric, t.dimension] })],
)

/** Which contacts were active on which day, for unique-visitor counts. */
export const contactDays = sqliteTable(
  'contact_days',
  {
    day: text('day').notNull(),
    contactKey: text('contact_key').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.day, t.contactKey] }),
    // A merge and an erasure find a contact's days by key alone.
    index('contact_days_by_contact').on(t.contactKey),
  ],
)

/** Messages the consumer could not apply after its retries, kept for inspection and replay. */
export const deadLetters = sqliteTable('dead_letters', {
  id: text('id').primaryKey(),
  queue: text('queue').notNull(),
  body: text('body').notNull(),
  attempts: integer('attempts').notNull(),
  receivedAt: text('received_at').notNull(),
})

export { ROLES, type Role }

/** Secret keys of the management API; only a SHA-256 of each key is kept. */
export const apiKeys = sqliteTable('api_keys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  keyHash: text('key_hash').notNull().unique(),
  /** The first characters of the key, so a person can tell keys apart in a list. */
  prefix: text('prefix').notNull(),
  createdAt: text('created_at').notNull(),
  revokedAt: text('revoked_at'),
})

/** Console sessions; the cookie holds a random token, the table its hash. */
export const sessions = sqliteTable('sessions', {
  tokenHash: text('token_hash').primaryKey(),
  keyId: text('key_id').notNull(),
  role: text('role', { enum: ROLES }).notNull(),
  csrfToken: text('csrf_token').notNull(),
  /**
   * SHA-256 of the key the session was made with (as api_keys.key_hash): a session lasts only
   * while that very key is valid, so changing CAIRN_ADMIN_KEY ends the bootstrap key's sessions.
   */
  keyHash: text('key_hash'),
  createdAt: text('created_at').notNull(),
  expiresAt: text('expires_at').notNull(),
})

/** Hash-chained audit log, appended in order by the AuditSequencer Durable Object. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    seq: integer('seq').primaryKey(),
    at: text('at').notNull(),
    actorKeyId: text('actor_key_id').notNull(),
    actorRole: text('actor_role').notNull(),
    action: text('action').notNull(),
    subjectHash: text('subject_hash'),
    status: integer('status').notNull(),
    detail: text('detail'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    index('audit_by_subject').on(t.subjectHash, t.seq),
    index('audit_by_actor').on(t.actorKeyId, t.seq),
    index('audit_by_time').on(t.at),
  ],
)

/**
 * Which person each audit entry is about, by every identifier hash known for them: the chain
 * row holds one subject hash, this index all of them (see audit/log.ts appendAudit).
 */
export const auditSubjects = sqliteTable(
  'audit_subjects',
  {
    subjectHash: text('subject_hash').notNull(),
    seq: integer('seq').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subjectHash, t.seq] })],
)

/** Each contact's effective consent, projected from its ContactDO ledger for totals. */
export const contactConsent = sqliteTable('contact_consent', {
  contactKey: text('contact_key').primaryKey(),
  analytics: integer('analytics', { mode: 'boolean' }),
  marketing: integer('marketing', { mode: 'boolean' }),
  personalization: integer('personalization', { mode: 'boolean' }),
  advertising: integer('advertising', { mode: 'boolean' }),
  updatedAt: text('updated_at').notNull(),
})

/** Hashed identifiers of erased people: their late or replayed events are dropped. */
export const suppressions = sqliteTable('suppressions', {
  hash: text('hash').primaryKey(),
  kind: text('kind').notNull(),
  /** The ContactDO holding the tombstone, by id (not name), to lift it without the identifier. */
  contactObjectId: text('contact_object_id'),
  erasureId: text('erasure_id').notNull(),
  createdAt: text('created_at').notNull(),
})

export const erasureRequests = sqliteTable(
  'erasure_requests',
  {
    id: text('id').primaryKey(),
    identifierKind: text('identifier_kind', { enum: ['userId', 'anonymousId', 'email'] }).notNull(),
    /** The identifier itself is kept only until the erasure completes. */
    identifier: text('identifier'),
    status: text('status', { enum: ['pending', 'running', 'completed', 'failed'] }).notNull(),
    requestedBy: text('requested_by').notNull(),
    reason: text('reason').notNull(),
    requestedAt: text('requested_at').notNull(),
    completedAt: text('completed_at'),
    receipt: text('receipt', { mode: 'json' }).$type<ErasureReceipt>(),
    error: text('error'),
    /** When the request was last sent to the queue; the cron sends a stalled one again. */
    lastSentAt: text('last_sent_at'),
  },
  (t) => [index('erasures_by_time').on(t.requestedAt)],
)

export interface ErasureReceipt {
  /** Whether any contact held data under the identifier; `summary` says so in words. */
  matched: boolean
  summary: string
  contacts: number
  identifiers: number
  stores: { store: string; action: string; removed: Record<string, number>; at: string }[]
}

/** Deployment settings changed through the API (retention lifetimes). */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
  updatedAt: text('updated_at').notNull(),
})

export const conversionDefinitions = sqliteTable('conversion_definitions', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  eventName: text('event_name').notNull(),
  filter: text('filter', { mode: 'json' })
    .$type<Record<string, string | number | boolean>>()
    .notNull(),
  valueProperty: text('value_property'),
  createdAt: text('created_at').notNull(),
})

/** Session entries per contact, for building the journeys the data-driven models fit on. */
export const touches = sqliteTable(
  'touches',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    at: text('at').notNull(),
    channel: text('channel').notNull(),
    campaign: text('campaign'),
  },
  (t) => [index('touches_by_contact').on(t.contactKey, t.at), index('touches_by_time').on(t.at)],
)

/**
 * Conversions with their touch path. An erasure clears `contact_key` and keeps the rest: the
 * path is channel names and the credits are aggregates without identifiers.
 */
export const conversions = sqliteTable(
  'conversions',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key'),
    definitionId: text('definition_id').notNull(),
    name: text('name').notNull(),
    at: text('at').notNull(),
    day: text('day').notNull(),
    value: real('value').notNull(),
    deterministic: integer('deterministic', { mode: 'boolean' }).notNull(),
    path: text('path', { mode: 'json' }).$type<string[]>().notNull(),
  },
  (t) => [index('conversions_by_day').on(t.day), index('conversions_by_contact').on(t.contactKey)],
)

/** Each conversion's credit per model and channel, computed in the ContactDO when it happened. */
export const attributionCredits = sqliteTable(
  'attribution_credits',
  {
    conversionId: text('conversion_id').notNull(),
    model: text('model').notNull(),
    channel: text('channel').notNull(),
    day: text('day').notNull(),
    conversions: real('conversions').notNull(),
    value: real('value').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversionId, t.model, t.channel] }),
    index('credits_by_model_day').on(t.model, t.day),
  ],
)

/** Data-driven model fits over all journeys; the newest one credits new conversions. */
export const attributionFits = sqliteTable('attribution_fits', {
  id: text('id').primaryKey(),
  fittedAt: text('fitted_at').notNull(),
  from: text('from_day').notNull(),
  to: text('to_day').notNull(),
  paths: integer('paths').notNull(),
  durationMs: integer('duration_ms').notNull(),
  removalEffects: text('removal_effects', { mode: 'json' })
    .$type<Record<string, number>>()
    .notNull(),
  valueRemovalEffects: text('value_removal_effects', { mode: 'json' })
    .$type<Record<string, number>>()
    .notNull(),
  intervals: text('intervals', { mode: 'json' }).$type<unknown>().notNull(),
})

/** Segments: a name and a rule (domain/segments/rule.ts); membership lives in each ContactDO. */
export const segments = sqliteTable('segments', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  rule: text('rule', { mode: 'json' }).$type<unknown>().notNull(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
  /** When a contact last entered or left it, as the queue consumer saw it. */
  changedAt: text('changed_at'),
})

/** Each segment's members, projected from the contacts' snapshots. */
export const segmentMembers = sqliteTable(
  'segment_members',
  {
    segmentId: text('segment_id').notNull(),
    contactKey: text('contact_key').notNull(),
    since: text('since').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.segmentId, t.contactKey] }),
    index('segment_members_by_contact').on(t.contactKey),
  ],
)

/** Manual lists (`{ "list": id }` rules); membership lives in each ContactDO. */
export const lists = sqliteTable('lists', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: text('created_at').notNull(),
})

export const listMembers = sqliteTable(
  'list_members',
  {
    listId: text('list_id').notNull(),
    contactKey: text('contact_key').notNull(),
    addedAt: text('added_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.listId, t.contactKey] }),
    index('list_members_by_contact').on(t.contactKey),
  ],
)

/** The accounts (groups) each contact belongs to, with the traits its group calls set. */
export const contactAccounts = sqliteTable(
  'contact_accounts',
  {
    contactKey: text('contact_key').notNull(),
    groupId: text('group_id').notNull(),
    traits: text('traits', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactKey, t.groupId] })],
)

/** Message events (sent, opened …) per contact: `{ "message": … }` rules read them. */
export const messageEvents = sqliteTable(
  'message_events',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    kind: text('kind').notNull(),
    templateId: text('template_id'),
    at: text('at').notNull(),
  },
  (t) => [
    index('message_events_by_contact').on(t.contactKey, t.kind, t.at),
    // The engagement KPI counts a period's openers across contacts (edge/insights/kpis.ts).
    index('message_events_by_kind').on(t.kind, t.at),
  ],
)

/** Subscription-group state per contact: `{ "subscribed": … }` rules read it. */
export const contactSubscriptions = sqliteTable(
  'contact_subscriptions',
  {
    contactKey: text('contact_key').notNull(),
    groupId: text('group_id').notNull(),
    subscribed: integer('subscribed', { mode: 'boolean' }).notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.contactKey, t.groupId] })],
)

/**
 * Journeys (edge/journeys/store.ts): a name, a status and the live set, the versions new
 * entrants take with their weights (`[{version, weight}]`; null until the first publish).
 */
export const journeys = sqliteTable('journeys', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** draft (never published), live or paused. */
  status: text('status', { enum: ['draft', 'live', 'paused'] }).notNull(),
  live: text('live', { mode: 'json' }).$type<{ version: number; weight: number }[]>(),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
})

/** A journey's versions, numbered from 1 and never changed once saved: runs are pinned to them. */
export const journeyVersions = sqliteTable(
  'journey_versions',
  {
    journeyId: text('journey_id').notNull(),
    version: integer('version').notNull(),
    definition: text('definition', { mode: 'json' }).$type<unknown>().notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.journeyId, t.version] })],
)

/**
 * Every change of a journey's live set and status, in order: the history rollback walks.
 * `live` is the set in force after the row (pause and resume keep it).
 */
export const journeyPublishes = sqliteTable(
  'journey_publishes',
  {
    journeyId: text('journey_id').notNull(),
    seq: integer('seq').notNull(),
    live: text('live', { mode: 'json' }).$type<{ version: number; weight: number }[]>().notNull(),
    action: text('action', {
      enum: ['publish', 'rollback', 'promote', 'pause', 'resume'],
    }).notNull(),
    at: text('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.journeyId, t.seq] })],
)

/** Experiment nodes' counts and decisions (edge/journeys/experiments.ts); holds no person. */
export const journeyExperiments = sqliteTable(
  'journey_experiments',
  {
    journeyId: text('journey_id').notNull(),
    version: integer('version').notNull(),
    node: text('node').notNull(),
    /** The path later entrants take; null while undecided. */
    winner: text('winner'),
    pValue: real('p_value'),
    decidedAt: text('decided_at'),
    /** The counts per path and the test's verdict at the last look. */
    stats: text('stats', { mode: 'json' }).$type<unknown>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.journeyId, t.version, t.node] })],
)

/**
 * Journey runs per contact, as their objects last reported them (the `journey-run` projection
 * in queue/consumer.ts): `{ "journey": … }` rules read their states, the metrics count them.
 */
export const journeyRuns = sqliteTable(
  'journey_runs',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    journeyId: text('journey_id').notNull(),
    version: integer('version').notNull(),
    state: text('state').notNull(),
    startedAt: text('started_at').notNull(),
    /** When the object made the report the row holds. */
    updatedAt: text('updated_at').notNull(),
    /** Where the run waits while active; its last node once it ended. */
    node: text('node'),
    /** Held at a wait, waitUntil or waitFor node. */
    waiting: integer('waiting', { mode: 'boolean' }).notNull().default(false),
    converted: integer('converted', { mode: 'boolean' }).notNull().default(false),
    reason: text('reason'),
    /** Experiment node → the path the run took. */
    paths: text('paths', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    endedAt: text('ended_at'),
    /** The highest step number reported: with the state, it orders reports (see the consumer). */
    lastSeq: integer('last_seq').notNull().default(0),
  },
  (t) => [
    index('journey_runs_by_contact').on(t.contactKey, t.journeyId),
    // Fan-outs walk a journey's active runs by contact (edge/journeys/fanout.ts).
    index('journey_runs_by_journey').on(t.journeyId, t.state, t.contactKey),
    index('journey_runs_by_node').on(t.journeyId, t.version, t.state, t.node),
  ],
)

/** Each run's step log (what node, what happened, where next): per-node metrics count it. */
export const journeySteps = sqliteTable(
  'journey_steps',
  {
    runId: text('run_id').notNull(),
    seq: integer('seq').notNull(),
    contactKey: text('contact_key').notNull(),
    journeyId: text('journey_id').notNull(),
    version: integer('version').notNull(),
    node: text('node').notNull(),
    type: text('type').notNull(),
    outcome: text('outcome').notNull(),
    next: text('next'),
    at: text('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.seq] }),
    index('journey_steps_by_node').on(t.journeyId, t.version, t.node),
  ],
)

/**
 * Webhook and ticket jobs' outcomes by idempotency key (edge/journeys/actions/consumer.ts):
 * sent, retrying or failed.
 */
export const journeyActions = sqliteTable(
  'journey_actions',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    journeyId: text('journey_id').notNull(),
    version: integer('version').notNull(),
    runId: text('run_id').notNull(),
    node: text('node').notNull(),
    kind: text('kind').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull(),
    lastError: text('last_error'),
    responseStatus: integer('response_status'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [index('journey_actions_by_contact').on(t.contactKey)],
)

/** Each contact's latest predictions: `{ "prediction": … }` rules read them. */
export const contactPredictions = sqliteTable(
  'contact_predictions',
  {
    contactKey: text('contact_key').primaryKey(),
    engagement: real('engagement'),
    churnRisk: real('churn_risk'),
    lapseRisk: real('lapse_risk'),
    pAlive: real('p_alive'),
    clv: real('clv'),
    updatedAt: text('updated_at').notNull(),
  },
  // The at-risk list's order (edge/predictions/at-risk.ts): value at risk, then key.
  (t) => [
    index('contact_predictions_by_value').on(
      sql`coalesce(${t.clv}, 0) * ${t.churnRisk}`,
      t.contactKey,
    ),
  ],
)

/**
 * Fits of the purchase models over D1's purchase summaries (edge/predictions/fit.ts); the newest
 * reaches every contact's object with the predictions configuration. Holds no person.
 */
/**
 * Next-best-action outcomes per arm (domain/predictions/next-action.ts outcomeKey: the action's
 * segment or 'all', then its id): one row each, added to in one upsert so concurrent outcomes
 * never lose a count.
 */
export const actionOutcomes = sqliteTable('action_outcomes', {
  arm: text('arm').primaryKey(),
  successes: integer('successes').notNull(),
  failures: integer('failures').notNull(),
  updatedAt: text('updated_at').notNull(),
})

export const predictionFits = sqliteTable('prediction_fits', {
  id: text('id').primaryKey(),
  fittedAt: text('fitted_at').notNull(),
  /** scheduled (the cron) or manual (POST /api/predictions/refit). */
  source: text('source').notNull(),
  customers: integer('customers').notNull(),
  bgnbd: text('bgnbd', { mode: 'json' }).$type<unknown>().notNull(),
  gammaGamma: text('gamma_gamma', { mode: 'json' }).$type<unknown>(),
  logLikelihood: real('log_likelihood').notNull(),
  settings: text('settings', { mode: 'json' }).$type<unknown>().notNull(),
})

/** Email templates (Liquid): subject, HTML and an optional text part (edge/messaging/render.ts). */
export const templates = sqliteTable('templates', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  subject: text('subject').notNull(),
  html: text('html').notNull(),
  text: text('text'),
  /** marketing (needs marketing consent and the group's opt-in) or transactional. */
  kind: text('kind').notNull(),
  /** The subscription group its messages belong to; null: the kind's default. */
  groupId: text('group_id'),
  /** A snippet wrapping the HTML part (`{% layout %}`); null: none. */
  layout: text('layout'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
})

/** Named Liquid snippets templates include: layouts and partials. */
export const templateSnippets = sqliteTable('template_snippets', {
  name: text('name').primaryKey(),
  body: text('body').notNull(),
  updatedAt: text('updated_at').notNull(),
})

/** Subscription groups (newsletter, product updates …) a contact opts into or out of. */
export const subscriptionGroups = sqliteTable('subscription_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Whether a contact who never chose is subscribed (opt-out groups) or not (opt-in groups). */
  defaultSubscribed: integer('default_subscribed', { mode: 'boolean' }).notNull(),
  createdAt: text('created_at').notNull(),
})

/**
 * Every message, as its contact's object last reported it (through the events queue): the
 * object holds the truth, this table answers `GET /api/messages` and finds a message's contact
 * for provider feedback.
 */
export const messages = sqliteTable(
  'messages',
  {
    id: text('id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    templateId: text('template_id').notNull(),
    journeyId: text('journey_id'),
    /** A journey's email node that made it: the version and node its metrics count it under. */
    journeyVersion: integer('journey_version'),
    journeyNode: text('journey_node'),
    kind: text('kind').notNull(),
    subject: text('subject'),
    status: text('status').notNull(),
    /** Why a message was not sent (no consent, capped, the provider's error …). */
    reason: text('reason'),
    attempts: text('attempts', { mode: 'json' }).$type<unknown[]>().notNull(),
    /** The object's change counter for the message: an older report never overwrites a newer. */
    version: integer('version').notNull(),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('messages_by_time').on(t.createdAt),
    index('messages_by_contact').on(t.contactKey, t.createdAt),
    index('messages_by_status').on(t.status, t.createdAt),
    index('messages_by_journey').on(t.journeyId, t.createdAt),
    index('messages_by_journey_node').on(t.journeyId, t.journeyVersion, t.journeyNode),
    index('messages_by_template').on(t.templateId, t.createdAt),
  ],
)

/** What the `log` provider sent: the rendered message, shown in the console. */
export const loggedEmails = sqliteTable(
  'logged_emails',
  {
    messageId: text('message_id').primaryKey(),
    contactKey: text('contact_key').notNull(),
    toAddress: text('to_address').notNull(),
    fromAddress: text('from_address').notNull(),
    subject: text('subject').notNull(),
    html: text('html').notNull(),
    text: text('text').notNull(),
    headers: text('headers', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('logged_emails_by_contact').on(t.contactKey)],
)

/**
 * Marketing spend per attribution channel and UTC day, imported through `POST /api/spend`: one
 * row per channel and day, so importing a day again replaces it. Holds no person.
 */
export const marketingSpend = sqliteTable(
  'marketing_spend',
  {
    channel: text('channel').notNull(),
    day: text('day').notNull(),
    amount: real('amount').notNull(),
    /** ISO 4217, or null when the import named none. */
    currency: text('currency'),
    importedAt: text('imported_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.channel, t.day] }), index('marketing_spend_by_day').on(t.day)],
)
