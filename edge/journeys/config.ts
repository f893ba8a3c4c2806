import {
  ALL_MARKETING_GROUP,
  TRANSACTIONAL_GROUP,
  type TemplateKind,
} from '../../contracts/messaging'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import type { SendRules } from '../../durable/contact-messaging'
import { sha256Hex } from '../access/secrets'
import { Memo } from '../cache/memo'
import { RefreshedValue } from '../cache/refreshed-value'
import type { Env } from '../env'
import { readActions, readOutcomes } from '../predictions/actions'
import type { ActionOutcomes, CandidateAction } from '../../domain/predictions/next-action'
import { targetOf, type MessageTarget } from '../messaging/message-target'
import { readMessagingSettings, sendRules } from '../messaging/settings'

/**
 * What a contact's object needs to run journeys (docs/design/journeys.md): the journeys that
 * are live or paused with the versions new entrants take, experiment winners, the email
 * templates any of their versions names and messaging's send rules. Versions themselves are read
 * one by one (`journeyDefinition`): they never change, so each isolate keeps them.
 */

export interface LiveJourney {
  id: string
  name: string
  status: 'live' | 'paused'
  live: { version: number; weight: number }[]
  /** `${version}:${node}` → the path name declared the winner of that experiment node. */
  winners: Record<string, string>
}

export interface JourneyConfig {
  /**
   * `<generation>.<digest>` as segments' (segments/config.ts): the generation counts journey
   * and template changes, the digest changes with anything below.
   */
  version: string
  /** Journeys live or paused (paused ones admit no one, but their runs' goals still count). */
  journeys: LiveJourney[]
  /** Every email template any version of these journeys names; a missing template is absent. */
  targets: Record<string, MessageTarget>
  /**
   * Subscription group → whether a contact who never chose is in it, for an email node that
   * names a group of its own (all marketing and transactional included).
   */
  groupDefaults: Record<string, boolean>
  sendRules: SendRules
}

const GENERATION_KEY = 'journeys_generation'
/** templates.ts moves it on every template change: targets come from templates. */
const TEMPLATES_GENERATION_KEY = 'templates_generation'

/** The statement to batch with every change to journeys, their live sets or experiments. */
export function journeysChanged(db: D1Database): D1PreparedStatement {
  return db
    .prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, 1, ?)
       ON CONFLICT (key) DO UPDATE SET value = value + 1, updated_at = excluded.updated_at`,
    )
    .bind(GENERATION_KEY, new Date().toISOString())
}

/** Read by every contact transaction that may meet a journey; changed rarely. */
const CACHE_MS = 5_000
const cached = new RefreshedValue<JourneyConfig>(CACHE_MS)

export function journeyConfig(env: Pick<Env, 'DB'>): Promise<JourneyConfig> {
  return cached.get(() => loadJourneyConfig(env.DB))
}

/** Called by every change in the isolate that made it, which then reads the change at once. */
export function forgetJourneyConfig() {
  cached.forget()
}

const SHOWN = `status IN ('live', 'paused')`

/** Reads the configuration from D1, uncached: one batch and the messaging settings beside it. */
export async function loadJourneyConfig(db: D1Database): Promise<JourneyConfig> {
  const batch = db.batch([
    db.prepare(`SELECT id, name, status, live FROM journeys WHERE ${SHOWN} ORDER BY id`),
    db.prepare(
      `SELECT journey_id, version, node, winner FROM journey_experiments
       WHERE winner IS NOT NULL AND journey_id IN (SELECT id FROM journeys WHERE ${SHOWN})
       ORDER BY journey_id, version, node`,
    ),
    // The templates email nodes name, in every version of the journeys shown: a run pinned to
    // an older version still sends its emails.
    db.prepare(
      `SELECT id, kind, group_id FROM templates WHERE id IN (
         SELECT json_extract(n.value, '$.template')
         FROM journey_versions AS v, json_each(v.definition, '$.nodes') AS n
         WHERE v.journey_id IN (SELECT id FROM journeys WHERE ${SHOWN})
           AND json_extract(n.value, '$.type') = 'email')
       ORDER BY id`,
    ),
    db.prepare('SELECT id, default_subscribed FROM subscription_groups'),
    // Both counters only grow, so their sum does: a template change moves the version too.
    db
      .prepare('SELECT COALESCE(SUM(value), 0) AS value FROM settings WHERE key IN (?, ?)')
      .bind(GENERATION_KEY, TEMPLATES_GENERATION_KEY),
  ])
  const [results, settings] = await Promise.all([batch, readMessagingSettings(db)])
  const [journeyRows, winnerRows, templateRows, groupRows, generationRows] = results as [
    D1Result<{ id: string; name: string; status: 'live' | 'paused'; live: string | null }>,
    D1Result<{ journey_id: string; version: number; node: string; winner: string }>,
    D1Result<{ id: string; kind: TemplateKind; group_id: string | null }>,
    D1Result<{ id: string; default_subscribed: number }>,
    D1Result<{ value: number }>,
  ]
  const winners = new Map<string, Record<string, string>>()
  for (const row of winnerRows.results) {
    const journey = winners.get(row.journey_id) ?? {}
    journey[`${row.version}:${row.node}`] = row.winner
    winners.set(row.journey_id, journey)
  }
  const journeys: LiveJourney[] = journeyRows.results.map((row) => ({
    id: row.id,
    name: row.name,
    status: row.status,
    live: row.live ? (JSON.parse(row.live) as LiveJourney['live']) : [],
    winners: winners.get(row.id) ?? {},
  }))
  const groupDefaults: Record<string, boolean> = {
    [ALL_MARKETING_GROUP]: true,
    [TRANSACTIONAL_GROUP]: true,
  }
  for (const group of groupRows.results) groupDefaults[group.id] = group.default_subscribed === 1
  const targets: Record<string, MessageTarget> = {}
  for (const template of templateRows.results) {
    targets[template.id] = targetOf({ ...template, group: template.group_id }, groupDefaults)
  }
  const content = { journeys, targets, groupDefaults, sendRules: sendRules(settings) }
  const digest = (await sha256Hex(JSON.stringify(content))).slice(0, 16)
  const generation = Number(generationRows.results[0]?.value ?? 0)
  return { version: `${generation}.${digest}`, ...content }
}

/** Versions never change once saved: each isolate keeps those it read. */
const definitions = new Memo<JourneyDefinition>(1_000)

class NoSuchVersion extends Error {}

/** A version's definition; null when there is none (not remembered: it may be saved next). */
export async function journeyDefinition(
  env: Pick<Env, 'DB'>,
  journeyId: string,
  version: number,
): Promise<JourneyDefinition | null> {
  try {
    return await definitions.get(`${journeyId}:${version}`, async () => {
      const row = await env.DB.prepare(
        'SELECT definition FROM journey_versions WHERE journey_id = ? AND version = ?',
      )
        .bind(journeyId, version)
        .first<{ definition: string }>()
      if (!row) throw new NoSuchVersion()
      return JSON.parse(row.definition) as JourneyDefinition
    })
  } catch (error) {
    if (error instanceof NoSuchVersion) return null
    throw error
  }
}

/** Candidate actions and their outcomes change rarely: read for the plans of a few seconds. */
const candidates = new RefreshedValue<{
  actions: CandidateAction[]
  outcomes: Map<string, ActionOutcomes>
}>(CACHE_MS)

/**
 * The next-best-action candidates and their outcomes (edge/predictions/actions.ts), for the
 * contact objects whose live journeys have a nextBestAction node.
 */
export function nextBestActionCandidates(env: Pick<Env, 'DB'>) {
  return candidates.get(async () => {
    const [actions, outcomes] = await Promise.all([readActions(env.DB), readOutcomes(env.DB)])
    return { actions, outcomes }
  })
}
