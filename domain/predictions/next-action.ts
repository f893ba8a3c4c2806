/**
 * Next-best-action for one contact (docs/design/predictions.md "Next-best-action: candidate
 * actions"): the candidate actions marketers configured, narrowed to those whose segment the
 * contact is in (or that name none), each an arm of the bandit (bandit.ts) with its prior from the
 * action's prior rate and its outcomes counted per (the action's segment or 'all', action).
 */

import { seededRandom } from '../attribution/random'
import { chooseAction, priorFromRule, UNIFORM_PRIOR, type Arm } from './bandit'

export interface CandidateAction {
  /** A slug, unique among the actions. */
  id: string
  name: string
  /** The event whose performance within `windowDays` of the action counts as its success. */
  goalEvent: string
  windowDays: number
  /** Only contacts in this segment are offered the action; none: every contact. */
  segment?: string
  /** The rate a marketer expects, 0–1: a prior worth 10 outcomes (priorFromRule). */
  priorRate?: number
}

export interface ActionOutcomes {
  successes: number
  failures: number
}

/** The arm of an action with no segment. */
export const ALL_CONTACTS = 'all'

/**
 * Where an action's outcomes are counted: per its segment, so narrowing an action to another
 * segment starts counting anew rather than carrying the rate of other people.
 */
export function outcomeKey(action: Pick<CandidateAction, 'id' | 'segment'>): string {
  return `${action.segment ?? ALL_CONTACTS}/${action.id}`
}

/** The UTC day of `now`: the span within which a contact's draw stays the same. */
function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10)
}

/** FNV-1a over the contact's key and the day: a seed for seededRandom. */
export function dailySeed(contactKey: string, now: Date): number {
  let hash = 0x811c9dc5
  for (const char of `${contactKey}|${utcDay(now)}`) {
    hash ^= char.codePointAt(0)!
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * The action to take with the contact now; null when no action applies to it. The draw is
 * seeded by the contact and the day, so the console, a journey and a reload all see the same
 * action through the day (given the same counts) instead of a new coin toss per request, while
 * the next day's draw explores again with what the outcomes taught meanwhile.
 */
export function nextBestAction(
  actions: readonly CandidateAction[],
  contact: { key: string; segments: readonly string[] },
  outcomes: ReadonlyMap<string, ActionOutcomes>,
  now: Date,
): string | null {
  const member = new Set(contact.segments)
  const arms: Arm[] = actions
    .filter((action) => action.segment === undefined || member.has(action.segment))
    .map((action) => ({
      id: action.id,
      ...(outcomes.get(outcomeKey(action)) ?? { successes: 0, failures: 0 }),
      ...(action.priorRate === undefined ? {} : { prior: priorFromRule(action.priorRate) }),
    }))
  return arms.length === 0 ? null : chooseAction(arms, seededRandom(dailySeed(contact.key, now)))
}

export interface LearnedRate extends ActionOutcomes {
  action: string
  segment: string
  /** The posterior mean of the action's goal rate: its prior and outcomes together. */
  rate: number
}

/** What the bandit has learned of each action: its outcomes and the goal rate they point to. */
export function learnedRates(
  actions: readonly CandidateAction[],
  outcomes: ReadonlyMap<string, ActionOutcomes>,
): LearnedRate[] {
  return actions.map((action) => {
    const counts = outcomes.get(outcomeKey(action)) ?? { successes: 0, failures: 0 }
    const prior = action.priorRate === undefined ? UNIFORM_PRIOR : priorFromRule(action.priorRate)
    const alpha = prior.alpha + counts.successes
    return {
      action: action.id,
      segment: action.segment ?? ALL_CONTACTS,
      ...counts,
      rate: alpha / (alpha + prior.beta + counts.failures),
    }
  })
}
