import { sql, type SQL } from 'drizzle-orm'
import { runInTransaction } from '../db/raw'
import type { Env } from '../env'
import { writeArchive } from './archive'
import { identifierHash, keyHash } from '../privacy/identifiers'
import { mergeStatements } from '../projections/contact-tables'
import { runErasure } from '../privacy/erasure'
import { reevaluateContacts, runBackfillPage } from '../segments/backfill'
import { runPredictionFit } from '../predictions/fit'
import { decideExperiments } from '../journeys/experiments'
import { runFanOutPage } from '../journeys/fanout'
import { sendTexts } from './send-texts'
import { CAIRN_SOURCE } from '../../contracts/stored-event'
import { bucketSeed } from '../../domain/segments/bucket'
import {
  WITHHELD_CONTACT,
  type ArchiveRecord,
  type ConsentMessage,
  type ContactSnapshot,
  type ConversionMessage,
  type EventMessage,
  type JourneyRunMessage,
  type MergeMessage,
  type MessageReport,
  type PredictionMessage,
  type QueuedMessage,
} from '../../contracts/queue-messages'

/** D1 caps one value at 2 MB; JSON payloads for json_each stay well under it. */
const MAX_JSON_PARAM_BYTES = 900 * 1024

/**
 * Applies a batch of ContactDO messages to D1 and the R2 archive. Every statement is idempotent
 * (events by id, snapshots by version, merges by key), so a redelivered batch adds nothing. A
 * batch that fails as a whole is retried queue message by queue message, so one poison message
 * (a bundle counts as one: the messages of one ContactDO transaction) goes to the dead-letter
 * queue alone instead of taking its neighbours with it.
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const valid: { message: Message<unknown>; bodies: QueuedMessage[] }[] = []
  for (const message of batch.messages) {
    const body = queuedBody(message.body)
    if (!body) message.retry()
    else if (Array.isArray(body)) valid.push({ message, bodies: body })
    else if (body.kind === 'erase') await runOne(message, () => runErasure(env, body.requestId))
    else if (body.kind === 'backfill') await runOne(message, () => runBackfillPage(env, body))
    else if (body.kind === 'reevaluate') await runOne(message, () => reevaluateContacts(env, body))
    else if (body.kind === 'journey-fanout') await runOne(message, () => runFanOutPage(env, body))
    else if (body.kind === 'prediction-fit') {
      await runOne(message, async () => void (await runPredictionFit(env, body.source)))
    } else valid.push({ message, bodies: [body] })
  }
  if (valid.length === 0) return
  try {
    await applyMessages(
      env,
      valid.flatMap((m) => m.bodies),
    )
    for (const { message } of valid) message.ack()
  } catch (error) {
    if (valid.length === 1) {
      console.error('queue message failed', error)
      valid[0]!.message.retry()
      return
    }
    for (const { message, bodies } of valid) await runOne(message, () => applyMessages(env, bodies))
  }
}

/**
 * Every producer sends JSON text: a ContactDO a bundle (an array of messages, see
 * contracts/queue-messages.ts bundleTexts), the API a single request (an erasure, a segment backfill); a single message of any
 * kind is read too. Anything else, or a bundle holding an erasure request or anything unknown,
 * is poison.
 */
/** Kinds that are work of their own, sent alone by the API, never inside a contact's bundle. */
const ALONE = new Set<QueuedMessage['kind']>([
  'erase',
  'backfill',
  'reevaluate',
  'prediction-fit',
  'journey-fanout',
])

function queuedBody(body: unknown): QueuedMessage | QueuedMessage[] | null {
  if (typeof body !== 'string') return null
  try {
    const parsed: unknown = JSON.parse(body)
    if (Array.isArray(parsed)) {
      const valid = parsed.every((item) => isQueuedMessage(item) && !ALONE.has(item.kind))
      return valid ? (parsed as QueuedMessage[]) : null
    }
    return isQueuedMessage(parsed) ? parsed : null
  } catch {
    return null
  }
}

async function runOne(message: Message<unknown>, work: () => Promise<void>) {
  try {
    await work()
    message.ack()
  } catch (error) {
    console.error('queue message failed', error)
    message.retry()
  }
}

/** Keeps what the dead-letter queue receives, so no message is ever dropped silently. */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const now = new Date().toISOString()
  await runInTransaction(
    env.DB,
    batch.messages.map(
      (message) => sql`INSERT OR IGNORE INTO dead_letters (id, queue, body, attempts, received_at)
        VALUES (${message.id}, ${batch.queue}, ${deadLetterBody(message.body)},
        ${message.attempts}, ${now})`,
    ),
  )
  for (const message of batch.messages) message.ack()
}

export async function applyMessages(env: Env, messages: QueuedMessage[]): Promise<void> {
  const { suppressed, stored } = await priorState(env, messages)
  const live = messages.filter((m) => !identifiersOf(m).some((id) => suppressed.has(id)))
  const events = live.filter((m): m is EventMessage => m.kind === 'event')
  // Before D1, so that an event D1 holds was archived by the delivery that stored it.
  await archiveNewEvents(env, events, stored)
  const merges = live.filter((m): m is MergeMessage => m.kind === 'merge')
  const consents = latestConsents(live)
  const snapshots = latestSnapshots(live)
  const statements: SQL[] = [
    ...(await Promise.all(merges.map((merge) => guardedMerge(env, merge)))).flat(),
    ...chunkJson(await withSuppressionHash(env, events.map(eventRow))).map(insertEvents),
    ...chunkJson(await withSuppressionHash(env, events.flatMap(accountRow))).map(upsertAccounts),
    ...(events.length > 0 ? rollupStatements() : []),
    // Before the contacts, whose version they compare with.
    ...chunkJson(await withSuppressionHash(env, snapshots)).flatMap(replaceMemberships),
    ...chunkJson(await withSuppressionHash(env, snapshots.map(withBucketSeed))).map(upsertContacts),
    ...chunkJson(await withSuppressionHash(env, snapshots.flatMap(identityRows))).map(
      upsertIdentities,
    ),
    ...chunkJson(await withSuppressionHash(env, consents.map(consentRow))).map(upsertConsent),
    ...chunkJson(await withSuppressionHash(env, live.filter(isKind('touch')))).map(insertTouches),
    ...chunkJson(
      await withSuppressionHash(env, live.filter(isKind('conversion')).map(conversionRow)),
    ).map(insertConversions),
    ...chunkJson(live.filter(isKind('conversion')).flatMap(creditRows)).map(insertCredits),
    ...chunkJson(await withSuppressionHash(env, live.filter(isKind('message')))).map(
      upsertMessages,
    ),
    ...chunkJson(
      await withSuppressionHash(env, live.filter(isKind('message')).flatMap(messageEventRow)),
    ).map(insertMessageEvents),
    ...chunkJson(await withSuppressionHash(env, live.filter(isKind('subscription')))).map(
      upsertSubscriptions,
    ),
    ...chunkJson(await withSuppressionHash(env, latestPredictions(live))).map(upsertPredictions),
    ...chunkJson(
      await withSuppressionHash(env, live.filter(isKind('journey-run')).map(runRow)),
    ).map(upsertRuns),
    ...chunkJson(
      await withSuppressionHash(env, live.filter(isKind('journey-run')).flatMap(stepRows)),
    ).map(insertSteps),
  ]
  await runInTransaction(env.DB, statements)
  // After D1, so a batch retried for D1's sake is the only way a job travels twice (and the
  // actions consumer drops a job already done, by its idempotency key).
  await sendTexts(
    env.MESSAGES,
    live.filter(isKind('journey-action')).map((m) => JSON.stringify(m.job)),
  )
  await decideAfter(env, live.filter(isKind('journey-run')))
}

/**
 * Experiments are decided by the runs D1 holds, so after a batch that may change the counts: a
 * run that converted, or one that took an experiment's path. A failure is only logged: the next
 * such batch looks again.
 */
async function decideAfter(env: Env, runs: JourneyRunMessage[]) {
  const journeys = new Set(
    runs
      .filter(
        ({ run, steps }) =>
          (run.converted && run.state !== 'active') || steps.some((s) => s.type === 'experiment'),
      )
      .map(({ run }) => run.journeyId),
  )
  for (const journeyId of journeys) {
    try {
      await decideExperiments(env, journeyId)
    } catch (error) {
      console.error('experiment decision failed', journeyId, error)
    }
  }
}

/**
 * Archives the events D1 does not hold yet, each once. An event arrives twice when a ContactDO
 * sends it again (it could not tell whether its first send went through, see durable/outbox.ts):
 * the archive object of the first delivery already has it.
 */
async function archiveNewEvents(env: Env, events: EventMessage[], stored: Set<string>) {
  const records = new Map<string, ArchiveRecord>()
  for (const { archive } of events) {
    if (archive && !stored.has(archive.id)) records.set(archive.id, archive)
  }
  if (records.size > 0) await writeArchive(env.ARCHIVE, [...records.values()])
}

/**
 * The people a message names, as `key:<contact key>` and `email:<address>`: a message naming
 * any erased one is dropped. A merge names both its contacts, so one still queued after an
 * erasure links nobody again; a snapshot names its email, so a person erased by email before
 * D1 knew the address is not projected by a snapshot that arrives after the erasure.
 */
function identifiersOf(message: QueuedMessage): string[] {
  switch (message.kind) {
    case 'merge':
      return [`key:${message.from}`, `key:${message.into}`]
    case 'contact':
      return message.email
        ? [`key:${message.key}`, `email:${message.email}`]
        : [`key:${message.key}`]
    case 'journey-action':
      return [`key:${message.job.contactKey}`]
    case 'erase':
    case 'reevaluate':
    case 'backfill':
    case 'prediction-fit':
    case 'journey-fanout':
      return []
    default:
      return message.contactKey === WITHHELD_CONTACT ? [] : [`key:${message.contactKey}`]
  }
}

function hashOfIdentifier(env: Env, id: string): Promise<string> {
  return id.startsWith('email:')
    ? identifierHash(env, { kind: 'email', value: id.slice('email:'.length) })
    : keyHash(env, id.slice('key:'.length))
}

/**
 * What D1 already says about a batch, read in one round trip: the people erased while their
 * messages waited in the queue, and the batch's events D1 holds (sent again by a ContactDO). The
 * erased people's rows are also filtered inside the D1 transaction (by suppressionHash), which
 * closes the race with an erasure that commits between this read and the batch.
 */
async function priorState(
  env: Env,
  messages: QueuedMessage[],
): Promise<{ suppressed: Set<string>; stored: Set<string> }> {
  const named = new Set<string>()
  const eventIds: string[] = []
  for (const m of messages) {
    for (const id of identifiersOf(m)) named.add(id)
    if (m.kind === 'event' && m.archive) eventIds.push(m.archive.id)
  }
  if (named.size === 0 && eventIds.length === 0) {
    return { suppressed: new Set(), stored: new Set() }
  }
  const byHash = new Map<string, string>()
  for (const id of named) byHash.set(await hashOfIdentifier(env, id), id)
  const [hashes, ids] = await env.DB.batch<{ value: string }>([
    env.DB.prepare(
      'SELECT hash AS value FROM suppressions WHERE hash IN (SELECT value FROM json_each(?))',
    ).bind(JSON.stringify([...byHash.keys()])),
    env.DB.prepare(
      'SELECT id AS value FROM events WHERE id IN (SELECT value FROM json_each(?))',
    ).bind(JSON.stringify(eventIds)),
  ])
  return {
    suppressed: new Set(hashes!.results.map((row) => byHash.get(row.value)!)),
    stored: new Set(ids!.results.map((row) => row.value)),
  }
}

/** Rows carry their contact's hash (and their email's) for the in-transaction check. */
async function withSuppressionHash<T extends { contactKey?: string; key?: string; email?: string }>(
  env: Env,
  rows: T[],
) {
  return Promise.all(
    rows.map(async (row) => {
      const key = row.contactKey ?? row.key ?? ''
      return {
        ...row,
        suppressionHash: key === WITHHELD_CONTACT ? '' : await keyHash(env, key),
        emailHash: row.email ? await identifierHash(env, { kind: 'email', value: row.email }) : '',
      }
    }),
  )
}

const NOT_SUPPRESSED = `json_extract(r.value, '$.suppressionHash') NOT IN (SELECT hash FROM suppressions)
  AND json_extract(r.value, '$.emailHash') NOT IN (SELECT hash FROM suppressions)`

/** A merge's statements run only while neither contact is suppressed, checked in the batch. */
async function guardedMerge(env: Env, merge: MergeMessage): Promise<SQL[]> {
  const [from, into] = await Promise.all([keyHash(env, merge.from), keyHash(env, merge.into)])
  const live = sql`NOT EXISTS (SELECT 1 FROM suppressions WHERE hash IN (${from}, ${into}))`
  return mergeStatements(merge, live)
}

function isKind<K extends QueuedMessage['kind']>(kind: K) {
  return (message: QueuedMessage): message is Extract<QueuedMessage, { kind: K }> =>
    message.kind === kind
}

/** Rows keyed by a contact land on the contact that absorbed it, if it was merged. */
function insertKeyed(table: string, columns: Record<string, string>, json: string): SQL {
  const names = Object.keys(columns)
  const values = Object.values(columns).map((expression) =>
    expression === 'contactKey'
      ? `coalesce(m.into_key, json_extract(r.value, '$.contactKey'))`
      : expression.startsWith('=')
        ? expression.slice(1)
        : `json_extract(r.value, '$.${expression}')`,
  )
  return sql.join([
    sql.raw(
      `INSERT OR IGNORE INTO ${table} (${names.join(', ')}) SELECT ${values.join(', ')} FROM json_each(`,
    ),
    sql`${json}`,
    sql.raw(`) AS r LEFT JOIN merges AS m ON m.from_key = json_extract(r.value, '$.contactKey')
      WHERE ${NOT_SUPPRESSED}`),
  ])
}

function insertTouches(json: string): SQL {
  return insertKeyed(
    'touches',
    { id: 'id', contact_key: 'contactKey', at: 'at', channel: 'channel', campaign: 'campaign' },
    json,
  )
}

function conversionRow(message: ConversionMessage) {
  const { credits: _credits, kind: _kind, ...row } = message
  return {
    ...row,
    day: message.at.slice(0, 10),
    deterministic: message.deterministic ? 1 : 0,
    path: JSON.stringify(message.path),
  }
}

function insertConversions(json: string): SQL {
  return insertKeyed(
    'conversions',
    {
      id: 'id',
      contact_key: 'contactKey',
      definition_id: 'definitionId',
      name: 'name',
      at: 'at',
      day: 'day',
      value: 'value',
      deterministic: 'deterministic',
      path: 'path',
    },
    json,
  )
}

/** Credits carry no identifier: the conversion id, day, model and channel. */
function creditRows(message: ConversionMessage) {
  const day = message.at.slice(0, 10)
  return Object.entries(message.credits).flatMap(([model, channels]) =>
    Object.entries(channels)
      .filter(([, credit]) => credit.conversions !== 0 || credit.value !== 0)
      .map(([channel, credit]) => ({
        conversionId: message.id,
        model,
        channel,
        day,
        conversions: credit.conversions,
        value: credit.value,
      })),
  )
}

function insertCredits(json: string): SQL {
  return sql`INSERT OR IGNORE INTO attribution_credits (conversion_id, model, channel, day, conversions, value)
    SELECT json_extract(value, '$.conversionId'), json_extract(value, '$.model'),
      json_extract(value, '$.channel'), json_extract(value, '$.day'),
      json_extract(value, '$.conversions'), json_extract(value, '$.value')
    FROM json_each(${json})`
}

/** Kept as received: text as it came, anything else as JSON. */
function deadLetterBody(body: unknown): string {
  return typeof body === 'string' ? body : (JSON.stringify(body) ?? 'null')
}

function isQueuedMessage(body: unknown): body is QueuedMessage {
  if (!body || typeof body !== 'object') return false
  const message = body as Partial<QueuedMessage> & Record<string, unknown>
  switch (message.kind) {
    case 'event':
      return (
        typeof message.contactKey === 'string' &&
        typeof (message.event as { id?: unknown } | undefined)?.id === 'string'
      )
    case 'contact':
      return typeof message.key === 'string' && typeof message.version === 'number'
    case 'merge':
      return typeof message.from === 'string' && typeof message.into === 'string'
    case 'consent':
      return typeof message.contactKey === 'string' && typeof message.state === 'object'
    case 'erase':
      return typeof message.requestId === 'string'
    case 'touch':
      return typeof message.contactKey === 'string' && typeof message.channel === 'string'
    case 'conversion':
      return typeof message.contactKey === 'string' && typeof message.credits === 'object'
    case 'reevaluate':
      return (
        typeof message.version === 'string' &&
        Array.isArray(message.keys) &&
        message.keys.every((key) => typeof key === 'string')
      )
    case 'backfill':
      return typeof message.segmentId === 'string' && typeof message.phase === 'string'
    case 'message':
      return typeof message.contactKey === 'string' && typeof message.version === 'number'
    case 'subscription':
      return typeof message.contactKey === 'string' && typeof message.groupId === 'string'
    case 'prediction-fit':
      return message.source === 'scheduled' || message.source === 'manual'
    case 'prediction':
      return typeof message.contactKey === 'string' && typeof message.churnRisk === 'number'
    case 'journey-run':
      return (
        typeof message.contactKey === 'string' &&
        typeof (message.run as { id?: unknown } | undefined)?.id === 'string' &&
        Array.isArray(message.steps)
      )
    case 'journey-action':
      return typeof (message.job as { contactKey?: unknown } | undefined)?.contactKey === 'string'
    case 'journey-fanout':
      return (
        typeof message.journeyId === 'string' &&
        typeof (message.operation as { op?: unknown } | undefined)?.op === 'string'
      )
    default:
      return false
  }
}

function latestConsents(messages: QueuedMessage[]): ConsentMessage[] {
  const latest = new Map<string, ConsentMessage>()
  for (const message of messages) {
    if (message.kind !== 'consent') continue
    const seen = latest.get(message.contactKey)
    if (!seen || seen.at <= message.at) latest.set(message.contactKey, message)
  }
  return [...latest.values()]
}

/**
 * A message as its contact's object reported it; a report older than the row (a lower version,
 * delivered late or twice) changes nothing.
 */
function upsertMessages(json: string): SQL {
  const field = (name: string) => `json_extract(r.value, '$.${name}')`
  return sql.join([
    sql.raw(`INSERT INTO messages (id, contact_key, template_id, journey_id, journey_version,
      journey_node, kind, subject, status, reason, attempts, version, created_at, updated_at)
      SELECT ${field('id')}, coalesce(m.into_key, ${field('contactKey')}), ${field('templateId')},
      ${field('journeyId')}, ${field('journeyVersion')}, ${field('journeyNode')},
      ${field('audience')}, ${field('subject')}, ${field('status')},
      ${field('reason')}, json(${field('attempts')}), ${field('version')}, ${field('createdAt')},
      ${field('updatedAt')} FROM json_each(`),
    sql`${json}`,
    sql.raw(`) AS r LEFT JOIN merges AS m ON m.from_key = ${field('contactKey')}
      WHERE ${NOT_SUPPRESSED}
      ON CONFLICT (id) DO UPDATE SET contact_key = excluded.contact_key, subject = excluded.subject,
      status = excluded.status, reason = excluded.reason, attempts = excluded.attempts,
      version = excluded.version, updated_at = excluded.updated_at,
      journey_version = coalesce(excluded.journey_version, messages.journey_version),
      journey_node = coalesce(excluded.journey_node, messages.journey_node)
      WHERE excluded.version > messages.version`),
  ])
}

function runRow({ contactKey, run, steps, at }: JourneyRunMessage) {
  return {
    ...run,
    contactKey,
    waiting: run.waiting ? 1 : 0,
    converted: run.converted ? 1 : 0,
    paths: JSON.stringify(run.paths),
    ended: run.state === 'active' ? 0 : 1,
    lastSeq: steps.length > 0 ? Math.max(...steps.map((step) => step.seq)) : NO_STEPS,
    at,
  }
}

/** The lastSeq of a report that logged no step since the one before it. */
const NO_STEPS = -1

/**
 * A run as its object reported it, unless D1 holds a later report. Each report carries the whole
 * run, so the row is the latest report's; a report delivered late or twice must change nothing.
 * Reports are ordered by (ended, last step number, time of the report):
 * - an ended run never changes again (its state is final), so an ended report is later than any
 *   active one, whatever the clocks say;
 * - while active, every change of the run logs steps, numbered per run by its object, so the
 *   highest step number says which report came later even when the run was handed to another
 *   contact's object (merge) whose clock differs;
 * - a report with no step (a run ended by its goal, exitWhen or the API) takes the row's number,
 *   so only the ended flag and the time decide; two reports with equal numbers are ordered by
 *   time, which the one object making both keeps.
 */
function upsertRuns(json: string): SQL {
  const field = (name: string) => `json_extract(r.value, '$.${name}')`
  return sql.join([
    sql.raw(`INSERT INTO journey_runs (id, contact_key, journey_id, version, state, started_at,
      updated_at, node, waiting, converted, reason, paths, ended_at, last_seq)
      SELECT ${field('id')}, coalesce(m.into_key, ${field('contactKey')}), ${field('journeyId')},
      ${field('version')}, ${field('state')}, ${field('enteredAt')}, ${field('at')},
      ${field('node')}, ${field('waiting')}, ${field('converted')}, ${field('reason')},
      ${field('paths')}, ${field('endedAt')}, ${field('lastSeq')} FROM json_each(`),
    sql`${json}`,
    sql.raw(`) AS r LEFT JOIN merges AS m ON m.from_key = ${field('contactKey')}
      WHERE ${NOT_SUPPRESSED}
      ON CONFLICT (id) DO UPDATE SET contact_key = excluded.contact_key,
      version = excluded.version, state = excluded.state, updated_at = excluded.updated_at,
      node = excluded.node, waiting = excluded.waiting, converted = excluded.converted,
      reason = excluded.reason, paths = excluded.paths, ended_at = excluded.ended_at,
      last_seq = max(journey_runs.last_seq, excluded.last_seq)
      WHERE (excluded.state != 'active',
          CASE WHEN excluded.last_seq = ${NO_STEPS} THEN journey_runs.last_seq
            ELSE excluded.last_seq END,
          excluded.updated_at)
        > (journey_runs.state != 'active', journey_runs.last_seq, journey_runs.updated_at)`),
  ])
}

/** Steps are numbered per run: a report delivered twice adds none. */
function stepRows({ contactKey, run, steps }: JourneyRunMessage) {
  return steps.map((step) => ({
    ...step,
    runId: run.id,
    contactKey,
    journeyId: run.journeyId,
    version: run.version,
  }))
}

function insertSteps(json: string): SQL {
  return insertKeyed(
    'journey_steps',
    {
      run_id: 'runId',
      seq: 'seq',
      contact_key: 'contactKey',
      journey_id: 'journeyId',
      version: 'version',
      node: 'node',
      type: 'type',
      outcome: 'outcome',
      next: 'next',
      at: 'at',
    },
    json,
  )
}

function messageEventRow(message: MessageReport) {
  if (!message.event) return []
  const { id, kind, at } = message.event
  return [{ id, contactKey: message.contactKey, kind, templateId: message.templateId, at }]
}

function insertMessageEvents(json: string): SQL {
  return insertKeyed(
    'message_events',
    { id: 'id', contact_key: 'contactKey', kind: 'kind', template_id: 'templateId', at: 'at' },
    json,
  )
}

function upsertSubscriptions(json: string): SQL {
  const field = (name: string) => `json_extract(r.value, '$.${name}')`
  return sql.join([
    sql.raw(`INSERT INTO contact_subscriptions (contact_key, group_id, subscribed, updated_at)
      SELECT coalesce(m.into_key, ${field('contactKey')}), ${field('groupId')},
      CASE json_type(r.value, '$.subscribed') WHEN 'true' THEN 1 ELSE 0 END, ${field('at')}
      FROM json_each(`),
    sql`${json}`,
    sql.raw(`) AS r LEFT JOIN merges AS m ON m.from_key = ${field('contactKey')}
      WHERE ${NOT_SUPPRESSED}
      ON CONFLICT (contact_key, group_id) DO UPDATE SET subscribed = excluded.subscribed,
      updated_at = excluded.updated_at WHERE excluded.updated_at >= contact_subscriptions.updated_at`),
  ])
}

function consentRow(message: ConsentMessage) {
  return { contactKey: message.contactKey, at: message.at, ...message.state }
}

function upsertConsent(json: string): SQL {
  const flag = (purpose: string) =>
    `CASE json_type(r.value, '$.${purpose}') WHEN 'true' THEN 1 WHEN 'false' THEN 0 ELSE NULL END`
  return sql.join([
    sql.raw(`INSERT INTO contact_consent (contact_key, analytics, marketing, personalization,
      advertising, updated_at)
      SELECT coalesce(m.into_key, json_extract(r.value, '$.contactKey')), ${flag('analytics')},
      ${flag('marketing')}, ${flag('personalization')}, ${flag('advertising')},
      json_extract(r.value, '$.at') FROM json_each(`),
    sql`${json}`,
    sql.raw(`) AS r LEFT JOIN merges AS m ON m.from_key = json_extract(r.value, '$.contactKey')
      WHERE ${NOT_SUPPRESSED}
      ON CONFLICT (contact_key) DO UPDATE SET analytics = excluded.analytics,
      marketing = excluded.marketing, personalization = excluded.personalization,
      advertising = excluded.advertising, updated_at = excluded.updated_at
      WHERE excluded.updated_at >= contact_consent.updated_at`),
  ])
}

function latestPredictions(messages: QueuedMessage[]): PredictionMessage[] {
  const latest = new Map<string, PredictionMessage>()
  for (const message of messages) {
    if (message.kind !== 'prediction') continue
    const seen = latest.get(message.contactKey)
    if (!seen || seen.at <= message.at) latest.set(message.contactKey, message)
  }
  return [...latest.values()]
}

/**
 * A contact's predictions as its object computed them, unless D1 holds newer ones (a fit's,
 * edge/predictions/fit.ts). Those of a contact merged away are dropped, not moved: the absorbing
 * contact's object computes its own over the combined history.
 */
function upsertPredictions(json: string): SQL {
  const field = (name: string) => `json_extract(r.value, '$.${name}')`
  return sql.join([
    sql.raw(`INSERT INTO contact_predictions (contact_key, engagement, churn_risk, lapse_risk,
      p_alive, clv, updated_at)
      SELECT ${field('contactKey')}, ${field('engagement')}, ${field('churnRisk')},
      ${field('lapseRisk')}, ${field('pAlive')}, ${field('clv')}, ${field('at')} FROM json_each(`),
    sql`${json}`,
    sql.raw(`) AS r WHERE ${NOT_SUPPRESSED}
      AND ${field('contactKey')} NOT IN (SELECT from_key FROM merges)
      ON CONFLICT (contact_key) DO UPDATE SET engagement = excluded.engagement,
      churn_risk = excluded.churn_risk, lapse_risk = excluded.lapse_risk,
      p_alive = excluded.p_alive, clv = excluded.clv,
      updated_at = excluded.updated_at WHERE excluded.updated_at >= contact_predictions.updated_at`),
  ])
}

/** Only the newest snapshot of each contact in a batch is worth writing. */
function latestSnapshots(messages: QueuedMessage[]): ContactSnapshot[] {
  const latest = new Map<string, ContactSnapshot>()
  for (const message of messages) {
    if (message.kind !== 'contact') continue
    const seen = latest.get(message.key)
    if (!seen || seen.version < message.version) latest.set(message.key, message)
  }
  return [...latest.values()]
}

/** An event's D1 row (also the bench's baseline for writing the event stream alone). */
export function eventRow({ contactKey, event }: EventMessage) {
  const e = event.enrichment
  return {
    id: event.id,
    messageId: event.messageId,
    contactKey,
    sourceId: event.sourceId,
    type: event.type,
    event: event.event ?? event.name ?? null,
    userId: event.userId ?? null,
    anonymousId: event.anonymousId ?? null,
    timestamp: event.timestamp,
    receivedAt: event.receivedAt,
    day: event.timestamp.slice(0, 10),
    path: e.path ?? null,
    landing: e.landing ? 1 : 0,
    referrerDomain: e.referrerDomain ?? null,
    channel: e.channel ?? null,
    country: e.country ?? null,
    browser: e.browser ?? null,
    os: e.os ?? null,
    device: e.device,
    bot: e.bot ? 1 : 0,
    properties: JSON.stringify(event.properties ?? event.traits ?? {}),
    context: JSON.stringify(event.context),
  }
}

/** Splits rows into JSON arrays small enough to bind as one D1 parameter each. */
function chunkJson<T>(rows: T[]): string[] {
  const chunks: string[] = []
  let current: string[] = []
  let bytes = 2
  for (const row of rows) {
    const json = JSON.stringify(row)
    if (current.length > 0 && bytes + json.length + 1 > MAX_JSON_PARAM_BYTES) {
      chunks.push(`[${current.join(',')}]`)
      current = []
      bytes = 2
    }
    current.push(json)
    bytes += json.length + 1
  }
  if (current.length > 0) chunks.push(`[${current.join(',')}]`)
  return chunks
}

/** The events table's columns, each with its field of eventRow. */
export const EVENT_COLUMNS = [
  ['id', 'id'],
  ['message_id', 'messageId'],
  ['source_id', 'sourceId'],
  ['type', 'type'],
  ['event', 'event'],
  ['user_id', 'userId'],
  ['anonymous_id', 'anonymousId'],
  ['timestamp', 'timestamp'],
  ['received_at', 'receivedAt'],
  ['day', 'day'],
  ['path', 'path'],
  ['landing', 'landing'],
  ['referrer_domain', 'referrerDomain'],
  ['channel', 'channel'],
  ['country', 'country'],
  ['browser', 'browser'],
  ['os', 'os'],
  ['device', 'device'],
  ['bot', 'bot'],
  ['properties', 'properties'],
  ['context', 'context'],
] as const

const EVENT_INSERT = `INSERT OR IGNORE INTO events (contact_key, ${EVENT_COLUMNS.map(([c]) => c).join(', ')})
  SELECT coalesce(m.into_key, json_extract(r.value, '$.contactKey')),
  ${EVENT_COLUMNS.map(([, field]) => `json_extract(r.value, '$.${field}')`).join(', ')}
  FROM json_each(`

/** Events of an absorbed anonymous contact that arrive after its merge land on the new owner. */
function insertEvents(json: string): SQL {
  return sql.join([
    sql.raw(EVENT_INSERT),
    sql`${json}) AS r LEFT JOIN merges AS m ON m.from_key = json_extract(r.value, '$.contactKey')`,
    sql.raw(` WHERE ${NOT_SUPPRESSED}`),
  ])
}

/**
 * Counts each event into the rollups exactly once: rows are inserted with rolled_up = 0, counted,
 * then marked, all inside the one D1 batch transaction.
 */
function rollupStatements(): SQL[] {
  const pending = 'FROM events WHERE rolled_up = 0 AND bot = 0'
  // Cairn's own events (`Segment Entered` …) are not traffic; they have rollups of their own.
  const traffic = `${pending} AND source_id != '${CAIRN_SOURCE}'`
  const own = `${pending} AND source_id = '${CAIRN_SOURCE}' AND type = 'track'`
  const rollup = (metric: string, dimension: string, where = '', from = traffic) =>
    sql.raw(`INSERT INTO daily_rollups (day, metric, dimension, count)
      SELECT day, '${metric}', ${dimension}, COUNT(*) ${from} ${where} GROUP BY day, ${dimension}
      ON CONFLICT (day, metric, dimension) DO UPDATE SET count = count + excluded.count`)
  const segmentId = "json_extract(properties, '$.segmentId')"
  const membership = "event IN ('Segment Entered', 'Segment Exited')"
  return [
    rollup('segment_entered', segmentId, "AND event = 'Segment Entered'", own),
    rollup('segment_exited', segmentId, "AND event = 'Segment Exited'", own),
    sql.raw(`UPDATE segments SET changed_at = max(coalesce(changed_at, ''),
        (SELECT max(timestamp) ${own} AND ${membership} AND ${segmentId} = segments.id))
      WHERE id IN (SELECT ${segmentId} ${own} AND ${membership})`),
    rollup('events', "''"),
    rollup('pageviews', "''", "AND type = 'page'"),
    rollup('page', 'path', "AND type = 'page' AND path IS NOT NULL"),
    rollup('referrer', 'referrer_domain', 'AND landing = 1 AND referrer_domain IS NOT NULL'),
    rollup('channel', 'channel', "AND landing = 1 AND type = 'page' AND channel IS NOT NULL"),
    rollup('event', 'event', "AND type = 'track'"),
    rollup('country', 'country', 'AND country IS NOT NULL'),
    rollup('device', 'device', "AND type = 'page'"),
    rollup('browser', 'browser', "AND type = 'page' AND browser IS NOT NULL"),
    sql.raw(
      `INSERT OR IGNORE INTO contact_days (day, contact_key)
        SELECT DISTINCT day, contact_key ${traffic} AND contact_key != '${WITHHELD_CONTACT}'`,
    ),
    sql.raw('UPDATE events SET rolled_up = 1 WHERE rolled_up = 0'),
  ]
}

/**
 * A contact's segments and lists as its snapshot names them, replacing what D1 held, unless D1
 * has a newer snapshot or the contact was merged away (its memberships moved with the merge).
 * Snapshots of objects from before segments existed name neither and leave both alone.
 */
function replaceMemberships(json: string): SQL[] {
  const key = "json_extract(r.value, '$.key')"
  const current = sql.raw(`${NOT_SUPPRESSED}
    AND ${key} NOT IN (SELECT from_key FROM merges)
    AND NOT EXISTS (SELECT 1 FROM contacts AS c
      WHERE c.key = ${key} AND c.version > json_extract(r.value, '$.version'))`)
  // Only what changed is written: most snapshots name the memberships D1 already holds, and
  // rewriting them all cost every event a dozen index writes.
  const replace = (table: string, column: string, since: string, field: string) => {
    const wanted = sql`SELECT s.key || char(0) || ${sql.raw(key)}
      FROM json_each(${json}) AS r, json_each(r.value, ${`$.${field}`}) AS s WHERE ${current}`
    return [
      sql`DELETE FROM ${sql.raw(table)} WHERE contact_key IN (SELECT ${sql.raw(key)}
        FROM json_each(${json}) AS r
        WHERE json_type(r.value, ${`$.${field}`}) IS NOT NULL AND ${current})
        AND ${sql.raw(column)} || char(0) || contact_key NOT IN (${wanted})`,
      sql`INSERT INTO ${sql.raw(table)} (${sql.raw(column)}, contact_key, ${sql.raw(since)})
        SELECT s.key, ${sql.raw(key)}, s.value
        FROM json_each(${json}) AS r, json_each(r.value, ${`$.${field}`}) AS s WHERE ${current}
        ON CONFLICT DO UPDATE SET ${sql.raw(since)} = excluded.${sql.raw(since)}
        WHERE ${sql.raw(since)} != excluded.${sql.raw(since)}`,
    ]
  }
  return [
    ...replace('segment_members', 'segment_id', 'since', 'segments'),
    ...replace('list_members', 'list_id', 'added_at', 'lists'),
  ]
}

function withBucketSeed(snapshot: ContactSnapshot) {
  return { ...snapshot, bucketSeed: bucketSeed(snapshot.key) }
}

/** The accounts a group event names, for `{ "account": … }` segment rules. */
function accountRow({ contactKey, event }: EventMessage) {
  if (event.type !== 'group' || !event.groupId || event.enrichment.bot) return []
  if (contactKey === WITHHELD_CONTACT) return []
  return [
    {
      contactKey,
      groupId: event.groupId,
      traits: JSON.stringify(event.traits ?? {}),
      updatedAt: event.timestamp,
    },
  ]
}

/** Newest traits win, as in the contact's object (durable/facets/groups.ts). */
function upsertAccounts(json: string): SQL {
  return sql`INSERT INTO contact_accounts (contact_key, group_id, traits, updated_at)
    SELECT coalesce(m.into_key, json_extract(r.value, '$.contactKey')),
      json_extract(r.value, '$.groupId'), json_extract(r.value, '$.traits'),
      json_extract(r.value, '$.updatedAt')
    FROM json_each(${json}) AS r
    LEFT JOIN merges AS m ON m.from_key = json_extract(r.value, '$.contactKey')
    WHERE ${sql.raw(NOT_SUPPRESSED)}
    ON CONFLICT (contact_key, group_id) DO UPDATE SET traits = excluded.traits,
      updated_at = excluded.updated_at WHERE excluded.updated_at >= contact_accounts.updated_at`
}

function upsertContacts(json: string): SQL {
  return sql`INSERT INTO contacts (key, user_id, email, anonymous_ids, traits, first_seen, last_seen,
      event_count, version, merged_into, bucket_seed)
    SELECT json_extract(value, '$.key'), json_extract(value, '$.userId'),
      json_extract(value, '$.email'), json_extract(value, '$.anonymousIds'),
      json_extract(value, '$.traits'), json_extract(value, '$.firstSeen'),
      json_extract(value, '$.lastSeen'), json_extract(value, '$.eventCount'),
      json_extract(value, '$.version'),
      (SELECT into_key FROM merges WHERE from_key = json_extract(value, '$.key')),
      json_extract(value, '$.bucketSeed')
    FROM json_each(${json}) AS r WHERE ${sql.raw(NOT_SUPPRESSED)}
    ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id, email = excluded.email,
      anonymous_ids = excluded.anonymous_ids, traits = excluded.traits,
      first_seen = excluded.first_seen, last_seen = excluded.last_seen,
      event_count = excluded.event_count, version = excluded.version,
      merged_into = excluded.merged_into, bucket_seed = excluded.bucket_seed
    WHERE excluded.version > contacts.version`
}

/** Each row carries the snapshot's email, so its suppression keeps every row out. */
function identityRows(snapshot: ContactSnapshot) {
  const { key, email } = snapshot
  const rows = snapshot.anonymousIds.map((value) => ({ kind: 'anonymousId', value, key, email }))
  if (snapshot.userId) rows.push({ kind: 'userId', value: snapshot.userId, key, email })
  if (email) rows.push({ kind: 'email', value: email, key, email })
  return rows
}

function upsertIdentities(json: string): SQL {
  return sql`INSERT INTO identities (kind, value, contact_key)
    SELECT json_extract(r.value, '$.kind'), json_extract(r.value, '$.value'),
      coalesce(m.into_key, json_extract(r.value, '$.key'))
    FROM json_each(${json}) AS r LEFT JOIN merges AS m ON m.from_key = json_extract(r.value, '$.key')
    WHERE ${sql.raw(NOT_SUPPRESSED)}
    ON CONFLICT (kind, value) DO UPDATE SET contact_key = excluded.contact_key`
}
