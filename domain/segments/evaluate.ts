import { bucketOf, bucketSeed, bucketThreshold } from './bucket'
import type { ContactFacts, EventFact, SegmentLookup } from './facts'
import {
  durationMs,
  type CountCondition,
  type Duration,
  type PerformedRule,
  type PropertyCondition,
  type Rule,
} from './rule'
import { compare, compareCodePoints, parseDate, valueAt } from './values'

/**
 * A segment rule over one contact, as docs/design/segments.md defines each kind; sql.ts says the
 * same over D1. The ContactDO runs this on every ingest for each affected segment, so nothing
 * here allocates per event and all/any stop at the first child that settles them.
 */

const AT_LEAST_ONCE: CountCondition = { op: 'gte', value: 1 }

/** Whether the contact is a member at `now` (ms). An unknown `inSegment` matches no one. */
export function evaluate(
  rule: Rule,
  facts: ContactFacts,
  now: number,
  lookup: SegmentLookup,
): boolean {
  if ('all' in rule) {
    for (const child of rule.all) if (!evaluate(child, facts, now, lookup)) return false
    return true
  }
  if ('any' in rule) {
    for (const child of rule.any) if (evaluate(child, facts, now, lookup)) return true
    return false
  }
  if ('not' in rule) return !evaluate(rule.not, facts, now, lookup)
  if ('trait' in rule) {
    if (!('duration' in rule)) return compare(valueAt(facts.traits, rule.trait), rule)
    const t = parseDate(valueAt(facts.traits, rule.trait))
    if (t === null) return false
    const since = now - durationMs(rule.duration)
    return rule.op === 'within' ? since <= t && t <= now : t < since
  }
  if ('performed' in rule) return performed(rule, facts, now)
  if ('lastPerformed' in rule) {
    let latest: EventFact | undefined
    for (const event of facts.events(rule.lastPerformed)) {
      // The cheap ordering test first: most events are not later than the latest so far.
      if (latest !== undefined && !isLater(event, latest)) continue
      if (satisfies(event, rule.where)) latest = event
    }
    return latest !== undefined && satisfies(latest, rule.has)
  }
  if ('consent' in rule) return (facts.consent(rule.consent) === true) === rule.granted
  if ('message' in rule) {
    const count = rule.count ?? AT_LEAST_ONCE
    const enough = enoughToSettle(count)
    const since = windowStart(rule.within, now)
    let n = 0
    for (const message of facts.messages(rule.message)) {
      if (message.at < since) continue
      if (rule.template !== undefined && message.template !== rule.template) continue
      if (++n === enough) break
    }
    return holds(count, n)
  }
  if ('subscribed' in rule) return (facts.subscribed(rule.subscribed) === true) === rule.value
  if ('list' in rule) return facts.inList(rule.list)
  if ('bucket' in rule) {
    const { percent, salt } = rule.bucket
    return bucketOf(bucketSeed(facts.key), salt ?? '') < bucketThreshold(percent)
  }
  if ('inSegment' in rule) {
    const other = lookup(rule.inSegment)
    return other !== undefined && evaluate(other, facts, now, lookup)
  }
  if ('journey' in rule) return facts.journeyStates(rule.journey).includes(rule.state)
  if ('account' in rule) {
    for (const traits of facts.accounts()) {
      if (compare(valueAt(traits, rule.account.trait), rule.account)) return true
    }
    return false
  }
  return compare(facts.prediction(rule.prediction), rule)
}

function performed(rule: PerformedRule, facts: ContactFacts, now: number): boolean {
  const count = rule.count ?? AT_LEAST_ONCE
  const enough = enoughToSettle(count)
  const since = windowStart(rule.within, now)
  let n = 0
  for (const event of facts.events(rule.performed)) {
    if (event.at < since || !satisfies(event, rule.where)) continue
    if (++n === enough) break
  }
  return holds(count, n)
}

/** No upper bound: an event stamped in the future counts. */
function windowStart(within: Duration | undefined, now: number): number {
  return within === undefined ? -Infinity : now - durationMs(within)
}

/** How many matches decide a count, so counting can stop there: `gte 3` is settled by a third. */
function enoughToSettle(count: CountCondition): number {
  return count.op === 'gte' ? count.value : count.value + 1
}

function holds(count: CountCondition, n: number): boolean {
  if (count.op === 'gte') return n >= count.value
  return count.op === 'lte' ? n <= count.value : n === count.value
}

/**
 * Whether the event's properties meet every condition. Takes the event, not its properties: a
 * contact object parses an event's body only when a condition reads it (EventFact.properties).
 */
function satisfies(
  event: EventFact,
  conditions: readonly PropertyCondition[] | undefined,
): boolean {
  if (conditions === undefined) return true
  for (const condition of conditions) {
    if (!compare(valueAt(event.properties, condition.property), condition)) return false
  }
  return true
}

/** Latest by (at, id); ids compare as SQLite's BINARY collation does, the greater one later. */
function isLater(a: EventFact, b: EventFact): boolean {
  return a.at > b.at || (a.at === b.at && compareCodePoints(a.id, b.id) > 0)
}

/**
 * The earliest instant after `now` at which membership could change with no new input, or
 * null. It looks at every time-windowed part of the rule, whatever the parts around it decide
 * (under `not`, in a referenced segment, in an `any` already true), so it may name an instant
 * where nothing changes, never one later than a real change.
 */
export function nextChange(
  rule: Rule,
  facts: ContactFacts,
  now: number,
  lookup: SegmentLookup,
): number | null {
  const at = earliestChange(rule, facts, now, lookup)
  return at === Infinity ? null : at
}

function earliestChange(
  rule: Rule,
  facts: ContactFacts,
  now: number,
  lookup: SegmentLookup,
): number {
  if ('all' in rule || 'any' in rule) {
    let earliest = Infinity
    for (const child of 'all' in rule ? rule.all : rule.any) {
      earliest = Math.min(earliest, earliestChange(child, facts, now, lookup))
    }
    return earliest
  }
  if ('not' in rule) return earliestChange(rule.not, facts, now, lookup)
  if ('inSegment' in rule) {
    const other = lookup(rule.inSegment)
    return other === undefined ? Infinity : earliestChange(other, facts, now, lookup)
  }
  if ('trait' in rule) {
    if (!('duration' in rule)) return Infinity
    const t = parseDate(valueAt(facts.traits, rule.trait))
    if (t === null) return Infinity
    // `within d` holds from t to t + d; `before d` from t + d + 1 on.
    if (rule.op === 'within' && t > now) return t
    const leaves = t + durationMs(rule.duration) + 1
    return leaves > now ? leaves : Infinity
  }
  if ('performed' in rule) {
    if (rule.within === undefined) return Infinity
    const d = durationMs(rule.within)
    let earliest = Infinity
    for (const event of facts.events(rule.performed)) {
      const leaves = event.at + d + 1
      if (leaves > now && leaves < earliest && satisfies(event, rule.where)) {
        earliest = leaves
      }
    }
    return earliest
  }
  if ('message' in rule) {
    if (rule.within === undefined) return Infinity
    const d = durationMs(rule.within)
    let earliest = Infinity
    for (const message of facts.messages(rule.message)) {
      if (rule.template !== undefined && message.template !== rule.template) continue
      const leaves = message.at + d + 1
      if (leaves > now && leaves < earliest) earliest = leaves
    }
    return earliest
  }
  return Infinity
}
