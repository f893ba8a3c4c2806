import type { Purpose } from '../consent'
import type { SegmentLookup } from './facts'
import type { Rule } from './rule'

/**
 * What a rule reads, so the ContactDO re-evaluates a segment only when one of these changed
 * (and schedules a wake-up only for timed ones). Referenced segments count as read in place.
 */
export interface RuleDependencies {
  /** Event names, `$page` and `$screen` included. */
  events: Set<string>
  /** Event names whose properties a condition reads (`where`, `has`). */
  properties: Set<string>
  /** Top-level trait keys: a rule on `address.city` reads `address`. */
  traits: Set<string>
  consent: Set<Purpose>
  lists: Set<string>
  accounts: boolean
  messages: boolean
  subscriptions: boolean
  journeys: boolean
  predictions: boolean
  /** A window (`within`) or a date op (`within`/`before` on a trait): time alone can change it. */
  timed: boolean
  bucket: boolean
}

export function dependencies(rule: Rule, lookup: SegmentLookup): RuleDependencies {
  const found: RuleDependencies = {
    events: new Set(),
    properties: new Set(),
    traits: new Set(),
    consent: new Set(),
    lists: new Set(),
    accounts: false,
    messages: false,
    subscriptions: false,
    journeys: false,
    predictions: false,
    timed: false,
    bucket: false,
  }
  collect(rule, lookup, found, new Set())
  return found
}

/** `visited` holds the segments already read, so one referenced twice is read once. */
function collect(rule: Rule, lookup: SegmentLookup, found: RuleDependencies, visited: Set<string>) {
  if ('all' in rule || 'any' in rule) {
    for (const child of 'all' in rule ? rule.all : rule.any) collect(child, lookup, found, visited)
  } else if ('not' in rule) {
    collect(rule.not, lookup, found, visited)
  } else if ('inSegment' in rule) {
    if (visited.has(rule.inSegment)) return
    visited.add(rule.inSegment)
    const other = lookup(rule.inSegment)
    if (other !== undefined) collect(other, lookup, found, visited)
  } else if ('trait' in rule) {
    const dot = rule.trait.indexOf('.')
    found.traits.add(dot === -1 ? rule.trait : rule.trait.slice(0, dot))
    if ('duration' in rule) found.timed = true
  } else if ('performed' in rule) {
    found.events.add(rule.performed)
    if (rule.where !== undefined) found.properties.add(rule.performed)
    if (rule.within !== undefined) found.timed = true
  } else if ('lastPerformed' in rule) {
    found.events.add(rule.lastPerformed)
    found.properties.add(rule.lastPerformed)
  } else if ('consent' in rule) {
    found.consent.add(rule.consent)
  } else if ('message' in rule) {
    found.messages = true
    if (rule.within !== undefined) found.timed = true
  } else if ('subscribed' in rule) {
    found.subscriptions = true
  } else if ('list' in rule) {
    found.lists.add(rule.list)
  } else if ('bucket' in rule) {
    found.bucket = true
  } else if ('journey' in rule) {
    found.journeys = true
  } else if ('account' in rule) {
    found.accounts = true
  } else {
    found.predictions = true
  }
}

/** The segments a rule names directly (`inSegment`), each once, in order of first mention. */
export function referencedSegments(rule: Rule): string[] {
  const ids = new Set<string>()
  const walk = (part: Rule) => {
    if ('all' in part || 'any' in part)
      for (const child of 'all' in part ? part.all : part.any) walk(child)
    else if ('not' in part) walk(part.not)
    else if ('inSegment' in part) ids.add(part.inSegment)
  }
  walk(rule)
  return [...ids]
}

/**
 * The reference cycle that saving segment `id` with `rule` would close, as the path of ids
 * from `id` back to it (`['a', 'b', 'a']`), or null. Other segments are read through `lookup`;
 * `id`'s own stored rule is the one being replaced, so it is never read.
 */
export function findCycle(id: string, rule: Rule, lookup: SegmentLookup): string[] | null {
  const path = [id]
  // A segment searched once without reaching `id` cannot reach it by another way in.
  const searched = new Set<string>()
  const reaches = (from: Rule): boolean => {
    for (const next of referencedSegments(from)) {
      path.push(next)
      if (next === id) return true
      if (!searched.has(next)) {
        searched.add(next)
        const other = lookup(next)
        if (other !== undefined && reaches(other)) return true
      }
      path.pop()
    }
    return false
  }
  return reaches(rule) ? path : null
}

/**
 * How many rules `rule` holds with every referenced segment read in place, as both evaluators
 * read it; counting stops past `limit` (the answer is then `limit + 1`). References multiply:
 * a rule naming a segment ten times that names another ten times is a hundred copies, so the
 * size a contact evaluates on each change is bounded here, not by the size of one rule.
 */
export function expandedSize(rule: Rule, lookup: SegmentLookup, limit: number): number {
  let size = 0
  const visit = (part: Rule): boolean => {
    if (++size > limit) return false
    if ('all' in part) return part.all.every(visit)
    if ('any' in part) return part.any.every(visit)
    if ('not' in part) return visit(part.not)
    if ('inSegment' in part) {
      const other = lookup(part.inSegment)
      return other === undefined || visit(other)
    }
    return true
  }
  visit(rule)
  return Math.min(size, limit + 1)
}
