/**
 * The engagement score: how much a contact has done lately, 0–100. Pure; the contact's object
 * keeps the state, adds each event as it arrives and lets the scheduler decay it between events.
 *
 * Recency, frequency and monetary value in one number: every event adds points by its kind
 * (frequency), a purchase more the more it was worth (monetary, on a log scale so one large order
 * does not drown everything), and all points halve every half-life (recency):
 *
 *   s(now) = Σ_events w(e) · 2^(−(now − t_e) / h)
 *   w(page view) = w(screen view) = 1,  w(track) = 2,  w(purchase) = 10 + 5 · ln(1 + value)
 *   score  = 100 · (1 − e^(−s / 20)),   h = 14 days
 *
 * So one page view today scores 5, a page view every day settles between 62.6 and 64.5 (s
 * between 19.7 and 20.7 through the day), and a purchase of 50 today scores 77, 52 a fortnight
 * later and 31 after four weeks if nothing else happens. The score only approaches 100. Weights, h and the saturation
 * constant 20 are options.
 *
 * The state keeps the points of each kind apart (all decay alike) so a profile can say where the
 * score comes from.
 */

export type EngagementKind = 'page' | 'screen' | 'track' | 'purchase'

export interface EngagementEvent {
  kind: EngagementKind
  /** When it happened, ms since the epoch. */
  at: number
  /** A purchase's value, in the workspace's currency; ignored for other kinds. */
  value?: number
}

/** Decayed points as of updatedAt. */
export interface EngagementState {
  /** From page and screen views. */
  views: number
  /** From track events that are not purchases. */
  actions: number
  /** From purchases, their count and their value together. */
  purchases: number
  /** ms since the epoch. */
  updatedAt: number
}

export interface EngagementOptions {
  halfLifeMs: number
  weights: { page: number; screen: number; track: number; purchase: number; value: number }
  /** Points at which the score reaches 100 · (1 − 1/e) ≈ 63. */
  saturation: number
}

const DAY_MS = 86_400_000

export const ENGAGEMENT_DEFAULTS: EngagementOptions = {
  halfLifeMs: 14 * DAY_MS,
  weights: { page: 1, screen: 1, track: 2, purchase: 10, value: 5 },
  saturation: 20,
}

export function emptyEngagement(now: number): EngagementState {
  return { views: 0, actions: 0, purchases: 0, updatedAt: now }
}

/** The state decayed to now; unchanged when now is not after updatedAt. */
export function engagementAt(
  state: EngagementState,
  now: number,
  { halfLifeMs }: EngagementOptions = ENGAGEMENT_DEFAULTS,
): EngagementState {
  if (now <= state.updatedAt) return state
  const factor = 2 ** (-(now - state.updatedAt) / halfLifeMs)
  return {
    views: state.views * factor,
    actions: state.actions * factor,
    purchases: state.purchases * factor,
    updatedAt: now,
  }
}

/**
 * The state with one more event, as of now (or of updatedAt, if later). An event that arrives
 * late counts as decayed since it happened; one stamped after now counts in full, never more.
 */
export function engagementAfterEvent(
  state: EngagementState,
  event: EngagementEvent,
  now: number,
  options: EngagementOptions = ENGAGEMENT_DEFAULTS,
): EngagementState {
  const current = engagementAt(state, now, options)
  const age = Math.max(0, current.updatedAt - event.at)
  const points = eventWeight(event, options) * 2 ** (-age / options.halfLifeMs)
  switch (event.kind) {
    case 'page':
    case 'screen':
      return { ...current, views: current.views + points }
    case 'track':
      return { ...current, actions: current.actions + points }
    case 'purchase':
      return { ...current, purchases: current.purchases + points }
  }
}

function eventWeight({ kind, value }: EngagementEvent, { weights }: EngagementOptions): number {
  if (kind !== 'purchase') return weights[kind]
  const worth = value !== undefined && Number.isFinite(value) && value > 0 ? value : 0
  return weights.purchase + weights.value * Math.log1p(worth)
}

/** The score, 0–100, at now (the state decayed first). */
export function engagementScore(
  state: EngagementState,
  now: number,
  options: EngagementOptions = ENGAGEMENT_DEFAULTS,
): number {
  const { views, actions, purchases } = engagementAt(state, now, options)
  return 100 * -Math.expm1(-(views + actions + purchases) / options.saturation)
}
