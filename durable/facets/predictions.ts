import type { StoredEvent } from '../../contracts/stored-event'
import {
  emptyEngagement,
  engagementAfterEvent,
  engagementAt,
  engagementScore,
  type EngagementKind,
  type EngagementState,
} from '../../domain/predictions/engagement'
import {
  DEFAULT_PREDICTION_SETTINGS,
  engagementOptions,
  forecastContact,
  valuePath,
  type ContactPredictions,
  type CustomerSummary,
} from '../../domain/predictions/forecast'
import type { PredictionsConfig } from '../contact-predictions'
import { CAIRN_SOURCE } from '../../contracts/stored-event'
import type { ContactMeta } from '../contact-meta'
import type { Facet } from '../facet'

const DAY_MS = 86_400_000

/** The meta key holding the engagement state: a few numbers, so no table of its own. */
export const ENGAGEMENT_KEY = 'engagement'

/** Below this score the contact is no longer active: the daily `predictions` job stops. */
export const ACTIVE_SCORE = 1

const NO_FIT: PredictionsConfig = {
  settings: DEFAULT_PREDICTION_SETTINGS,
  models: null,
  version: '',
}

/**
 * The contact's predictions (docs/design/predictions.md): the engagement state, updated by each
 * of the person's events as it is stored and decayed by the `predictions` job, kept in one meta
 * value (a table would cost every contact a page); the purchase summary read from the contact's
 * own events when asked; both under the predictions configuration the object was last given
 * (`configure`, per call, by version). A merge needs no hand-over: the absorbed events are stored
 * again here, each adding its points as of when it happened.
 */
export class Predictions implements Facet<null> {
  readonly tables = [] as const
  private config = NO_FIT
  private state?: EngagementState

  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: ContactMeta,
  ) {}

  configure(config: PredictionsConfig) {
    this.config = config
  }

  get configuration(): PredictionsConfig {
    return this.config
  }

  prime() {}

  forget() {
    this.state = undefined
  }

  onEvent(event: StoredEvent, at: number) {
    if (event.enrichment.bot) return
    const kind = this.kindOf(event)
    if (!kind) return
    const value = kind === 'purchase' ? purchaseValue(event, this.config) : undefined
    const now = Date.now()
    const options = engagementOptions(this.config.settings)
    this.save(engagementAfterEvent(this.engagementState(now), { kind, at, value }, now, options))
  }

  /** Whether the event is one the settings name as a purchase. */
  isPurchase(event: StoredEvent): boolean {
    return this.kindOf(event) === 'purchase'
  }

  handOver(): null {
    return null
  }

  absorb() {}

  profile() {
    return {}
  }

  /** The score, 0–100, at now. */
  engagement(now: number): number {
    return engagementScore(this.engagementState(now), now, engagementOptions(this.config.settings))
  }

  /** Stores the state decayed to now (the job): numbers stay small, the score is unchanged. */
  decay(now: number) {
    const options = engagementOptions(this.config.settings)
    const current = this.engagementState(now)
    if (now > current.updatedAt) this.save(engagementAt(current, now, options))
  }

  /**
   * The contact's purchase summary in days, as D1's summaries count it (edge/predictions/
   * summaries.ts: UTC purchase days, each day's values summed); null when it never bought.
   */
  summary(now: number): CustomerSummary | null {
    const { purchaseEvents, valueProperty } = this.config.settings
    const days = this.sql
      .exec<{ day: string; value: number }>(
        `SELECT date(timestamp / 1000, 'unixepoch') AS day,
           SUM(coalesce(CAST(json_extract(body, ?) AS REAL), 0)) AS value
         FROM events WHERE type = 'track' AND bot = 0 AND name IN (SELECT value FROM json_each(?))
           AND json_extract(body, '$.sourceId') IS NOT ?
         GROUP BY day ORDER BY day`,
        `$."properties"${valuePath(valueProperty).slice(1)}`,
        JSON.stringify(purchaseEvents),
        CAIRN_SOURCE,
      )
      .toArray()
    if (days.length === 0) return null
    const first = Date.parse(days[0]!.day)
    const daysFrom = (ms: number) => Math.floor((ms - first) / DAY_MS)
    const x = days.length - 1
    const tx = daysFrom(Date.parse(days[x]!.day))
    let repeatValue = 0
    for (const { value } of days.slice(1)) repeatValue += value
    return { x, tx, T: Math.max(tx, daysFrom(now)), m: x > 0 ? repeatValue / x : 0 }
  }

  /** The contact's predictions now, under the configuration it was given. */
  predict(now: number): ContactPredictions {
    const { models, settings } = this.config
    return forecastContact(this.engagement(now), this.summary(now), models, settings)
  }

  /** Whether the contact did anything lately (its score is at least ACTIVE_SCORE). */
  active(now: number): boolean {
    return this.engagement(now) >= ACTIVE_SCORE
  }

  private kindOf(event: StoredEvent): EngagementKind | null {
    if (event.type === 'page') return 'page'
    if (event.type === 'screen') return 'screen'
    if (event.type !== 'track') return null
    return this.config.settings.purchaseEvents.includes(event.event ?? '') ? 'purchase' : 'track'
  }

  private engagementState(now: number): EngagementState {
    if (!this.state) {
      const stored = this.meta.get(ENGAGEMENT_KEY)
      this.state = stored ? (JSON.parse(stored) as EngagementState) : emptyEngagement(now)
    }
    return this.state
  }

  private save(state: EngagementState) {
    this.state = state
    this.meta.set(ENGAGEMENT_KEY, JSON.stringify(state))
  }
}

/** The purchase's value at the settings' property; undefined when it is not a number. */
function purchaseValue(event: StoredEvent, { settings }: PredictionsConfig): number | undefined {
  let value: unknown = event.properties
  for (const label of settings.valueProperty.split('.')) {
    value =
      value && typeof value === 'object' ? (value as Record<string, unknown>)[label] : undefined
  }
  const number = typeof value === 'string' ? Number(value) : value
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined
}
