import { PURPOSES, type Purpose } from '../../../domain/consent'
import {
  JOURNEY_STATES,
  LEAF_KINDS,
  MESSAGE_EVENTS,
  PREDICTIONS,
  VALUE_OPS,
  type CountCondition,
  type Duration,
  type LeafKind,
  type PropertyCondition,
  type Rule,
  type Scalar,
  type ValueCondition,
  type ValueOp,
} from '../../../domain/segments/rule'

export { JOURNEY_STATES, LEAF_KINDS, MESSAGE_EVENTS, PREDICTIONS, PURPOSES, VALUE_OPS }
export type { LeafKind }
export type { CountCondition, Duration, PropertyCondition, Purpose, Rule, Scalar, ValueOp }

/**
 * The segment rule being edited, as a tree of nodes with ids (stable keys for the view, and the
 * place an API error is shown), and the pure operations on it. No DOM, no signals: the model
 * (segments.ts) keeps the tree in a signal and the tests call these directly.
 * Leaves hold the rule of the grammar (domain/segments/rule.ts) as it is; groups hold nodes.
 */

export type GroupKind = 'all' | 'any'

export type Node =
  | { id: string; kind: 'all'; children: Node[] }
  | { id: string; kind: 'any'; children: Node[] }
  | { id: string; kind: 'not'; child: Node }
  | { id: string; kind: 'leaf'; rule: Rule }

export type Kind = GroupKind | 'not' | LeafKind

export const KIND_LABELS: Record<Kind, string> = {
  all: 'All of',
  any: 'Any of',
  not: 'Not',
  trait: 'Trait',
  performed: 'Performed',
  lastPerformed: 'Last event',
  consent: 'Consent',
  message: 'Message',
  subscribed: 'Subscribed',
  list: 'In list',
  bucket: 'Bucket',
  inSegment: 'In segment',
  journey: 'In journey',
  account: 'Account',
  prediction: 'Prediction',
}

/** Trait ops on dates, beside the value ops. */
export const DATE_OPS = ['within', 'before'] as const
export type TraitOp = ValueOp | (typeof DATE_OPS)[number]

let counter = 0
const nextId = () => `r${++counter}`

export function group(kind: GroupKind, children: Node[] = []): Node {
  return { id: nextId(), kind, children } as Node
}

export function negation(child: Node): Node {
  return { id: nextId(), kind: 'not', child }
}

export function leaf(rule: Rule): Node {
  return { id: nextId(), kind: 'leaf', rule }
}

/** A fresh rule of a kind, with the fields the grammar requires set to something to edit. */
export function defaultRule(kind: LeafKind): Rule {
  switch (kind) {
    case 'trait':
      return { trait: '', op: 'eq', value: '' }
    case 'performed':
      return { performed: '' }
    case 'lastPerformed':
      return { lastPerformed: '', has: [{ property: '', op: 'eq', value: '' }] }
    case 'consent':
      return { consent: 'marketing', granted: true }
    case 'message':
      return { message: 'opened' }
    case 'subscribed':
      return { subscribed: '', value: true }
    case 'list':
      return { list: '' }
    case 'bucket':
      return { bucket: { percent: 10 } }
    case 'inSegment':
      return { inSegment: '' }
    case 'journey':
      return { journey: '', state: 'active' }
    case 'account':
      return { account: { trait: '', op: 'eq', value: '' } }
    case 'prediction':
      return { prediction: 'churnRisk', op: 'gte', value: 0.5 }
  }
}

export function kindOfRule(rule: Rule): Kind {
  if ('all' in rule) return 'all'
  if ('any' in rule) return 'any'
  if ('not' in rule) return 'not'
  return LEAF_KINDS.find((kind) => kind in rule) ?? 'trait'
}

export function kindOf(node: Node): Kind {
  return node.kind === 'leaf' ? kindOfRule(node.rule) : node.kind
}

/** The editing tree of a saved rule. */
export function fromRule(rule: Rule): Node {
  if ('all' in rule) return group('all', [...rule.all].map(fromRule))
  if ('any' in rule) return group('any', [...rule.any].map(fromRule))
  if ('not' in rule) return negation(fromRule(rule.not))
  return leaf(rule)
}

/**
 * The tree of a rule written as JSON in the URL (`/segments/new?rule=…`, so a reload keeps an
 * unsaved rule), or undefined when the text is not one. The API judges the rule itself.
 */
export function parseRule(text: string | null): Node | undefined {
  if (!text) return undefined
  try {
    const rule: unknown = JSON.parse(text)
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return undefined
    return fromRule(rule as Rule)
  } catch {
    return undefined
  }
}

/** The rule the tree stands for, as the API takes it. */
export function toRule(node: Node): Rule {
  if (node.kind === 'all') return { all: node.children.map(toRule) }
  if (node.kind === 'any') return { any: node.children.map(toRule) }
  if (node.kind === 'not') return { not: toRule(node.child) }
  return node.rule
}

/** Each node's place in the request body (`rule.all[2].not`), as API errors name it. */
export function pathsOf(node: Node, base = 'rule', into = new Map<string, string>()) {
  into.set(node.id, base)
  if (node.kind === 'all' || node.kind === 'any') {
    node.children.forEach((child, i) => pathsOf(child, `${base}.${node.kind}[${i}]`, into))
  }
  if (node.kind === 'not') pathsOf(node.child, `${base}.not`, into)
  return into
}

export function find(node: Node, id: string): Node | undefined {
  if (node.id === id) return node
  if (node.kind === 'all' || node.kind === 'any') {
    for (const child of node.children) {
      const found = find(child, id)
      if (found) return found
    }
  }
  if (node.kind === 'not') return find(node.child, id)
  return undefined
}

/** The tree with node `id` replaced by `replace(node)`; the same tree when `id` is not in it. */
export function replace(node: Node, id: string, with_: (node: Node) => Node): Node {
  if (node.id === id) return with_(node)
  if (node.kind === 'all' || node.kind === 'any') {
    const children = node.children.map((child) => replace(child, id, with_))
    return children.every((child, i) => child === node.children[i]) ? node : { ...node, children }
  }
  if (node.kind === 'not') {
    const child = replace(node.child, id, with_)
    return child === node.child ? node : { ...node, child }
  }
  return node
}

/** Adds a node at the end of group `groupId`. */
export function addChild(tree: Node, groupId: string, child: Node): Node {
  return replace(tree, groupId, (node) =>
    node.kind === 'all' || node.kind === 'any'
      ? { ...node, children: [...node.children, child] }
      : node,
  )
}

/**
 * The tree without node `id`. A `not` left with nothing goes too; the root removed leaves an
 * empty "all of" to start again from.
 */
export function remove(tree: Node, id: string): Node {
  if (tree.id === id) return group('all')
  const parent = parentOf(tree, id)
  if (!parent) return tree
  if (parent.kind === 'not') return remove(tree, parent.id)
  return replace(tree, parent.id, (node) =>
    node.kind === 'all' || node.kind === 'any'
      ? { ...node, children: node.children.filter((child) => child.id !== id) }
      : node,
  )
}

export function parentOf(tree: Node, id: string): Node | undefined {
  if (tree.kind === 'all' || tree.kind === 'any') {
    for (const child of tree.children) {
      if (child.id === id) return tree
      const found = parentOf(child, id)
      if (found) return found
    }
  }
  if (tree.kind === 'not') return tree.child.id === id ? tree : parentOf(tree.child, id)
  return undefined
}

/** Puts node `id` inside a new all/any group, or under a not. */
export function wrap(tree: Node, id: string, kind: GroupKind | 'not'): Node {
  return replace(tree, id, (node) => (kind === 'not' ? negation(node) : group(kind, [node])))
}

/** Replaces a not, or a group of one, by what it holds. */
export function unwrap(tree: Node, id: string): Node {
  return replace(tree, id, (node) => {
    if (node.kind === 'not') return node.child
    if ((node.kind === 'all' || node.kind === 'any') && node.children.length === 1) {
      return node.children[0]!
    }
    return node
  })
}

/** Moves node `id` one place up (-1) or down (+1) within its group. */
export function move(tree: Node, id: string, by: -1 | 1): Node {
  const parent = parentOf(tree, id)
  if (!parent || (parent.kind !== 'all' && parent.kind !== 'any')) return tree
  const from = parent.children.findIndex((child) => child.id === id)
  const to = from + by
  if (to < 0 || to >= parent.children.length) return tree
  const children = [...parent.children]
  ;[children[from], children[to]] = [children[to]!, children[from]!]
  return replace(tree, parent.id, () => ({ ...parent, children }))
}

/**
 * Node `id` as another kind. all ↔ any keeps the children; a group or not asked of a leaf wraps
 * it; a leaf of another kind starts fresh, keeping the event name or trait path it shares.
 */
export function changeKind(tree: Node, id: string, kind: Kind): Node {
  const node = find(tree, id)
  if (!node || kindOf(node) === kind) return tree
  if (kind === 'all' || kind === 'any') {
    if (node.kind === 'all' || node.kind === 'any') {
      return replace(tree, id, () => ({ ...node, kind }) as Node)
    }
    return wrap(tree, id, kind)
  }
  if (kind === 'not') return wrap(tree, id, 'not')
  const fresh = defaultRule(kind)
  const carried = node.kind === 'leaf' ? carry(node.rule, fresh) : fresh
  // The node keeps its id, so the kind picker keeps focus while arrow keys go through kinds.
  return replace(tree, id, (current) => ({ id: current.id, kind: 'leaf', rule: carried }))
}

function carry(from: Rule, to: Rule): Rule {
  const event =
    'performed' in from ? from.performed : 'lastPerformed' in from ? from.lastPerformed : ''
  if (event && 'performed' in to) return { ...to, performed: event }
  if (event && 'lastPerformed' in to) return { ...to, lastPerformed: event }
  const path = 'trait' in from ? from.trait : 'account' in from ? from.account.trait : ''
  if (path && 'trait' in to) return { ...to, trait: path }
  if (path && 'account' in to) return { ...to, account: { ...to.account, trait: path } }
  return to
}

export function updateLeaf(tree: Node, id: string, rule: Rule): Node {
  return replace(tree, id, (node) => (node.kind === 'leaf' ? { ...node, rule } : node))
}

// ---- values ----

export type ValueType = 'string' | 'number' | 'boolean'

export function typeOf(value: Scalar | undefined): ValueType {
  return typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'boolean' : 'string'
}

/**
 * A value typed in as text, as `type`: numbers compare as numbers and strings as strings
 * (ARCHITECTURE.md), so "10" and 10 differ. Text that is not a number stays text, so the API
 * names the problem instead of the console hiding it.
 */
export function parseValue(text: string, type: ValueType): Scalar {
  if (type === 'boolean') return text === 'true'
  if (type === 'number') {
    const n = Number(text)
    return text.trim() !== '' && Number.isFinite(n) ? n : text
  }
  return text
}

/** A scalar converted to another type, as far as it goes. */
export function convert(value: Scalar | undefined, type: ValueType): Scalar {
  if (type === 'boolean') return value === true || value === 'true'
  return parseValue(value === undefined ? '' : String(value), type)
}

/**
 * A condition under another op: `in` takes a list, `exists`/`not_exists` no value, the others
 * one value; the value already there is kept as far as the new op allows.
 */
export function withOp<T extends ValueCondition>(condition: T, op: ValueOp): T {
  const { value, ...rest } = condition
  const first = Array.isArray(value) ? value[0] : value
  if (op === 'exists' || op === 'not_exists') return { ...rest, op } as T
  if (op === 'in') {
    const list = Array.isArray(value) ? value : value === undefined ? [] : [value]
    return { ...rest, op, value: list } as T
  }
  return { ...rest, op, value: first ?? '' } as T
}

/** A trait rule under another op, between value ops and the date ops (which take a duration). */
export function withTraitOp(rule: Rule & { trait: string }, op: TraitOp): Rule {
  if (op === 'within' || op === 'before') {
    const duration = 'duration' in rule ? rule.duration : { days: 7 }
    return { trait: rule.trait, op, duration }
  }
  const base: ValueCondition =
    'duration' in rule ? { op: 'eq', value: '' } : (rule as ValueCondition)
  return { trait: rule.trait, ...withOp(base, op) }
}

export function opTakes(op: TraitOp): 'none' | 'one' | 'list' | 'duration' {
  if (op === 'within' || op === 'before') return 'duration'
  if (op === 'exists' || op === 'not_exists') return 'none'
  return op === 'in' ? 'list' : 'one'
}

/** A duration with one part set; an empty part (`null`) is left out. */
export function withDurationPart(
  duration: Duration,
  part: keyof Duration,
  value: number | null,
): Duration {
  const next = { ...duration }
  if (value === null || Number.isNaN(value)) delete next[part]
  else next[part] = value
  return next
}

/** "7 days", "1 day 2 hours", "—" for nothing. */
export function describeDuration(duration: Duration | undefined): string {
  if (!duration) return '—'
  const parts = (['days', 'hours', 'minutes'] as const)
    .filter((part) => duration[part])
    .map((part) => `${duration[part]} ${duration[part] === 1 ? part.slice(0, -1) : part}`)
  return parts.join(' ') || '—'
}

// ---- lists of conditions (where, has) ----

export function emptyCondition(): PropertyCondition {
  return { property: '', op: 'eq', value: '' }
}

export function setAt<T>(list: readonly T[], index: number, item: T): T[] {
  return list.map((current, i) => (i === index ? item : current))
}

export function removeAt<T>(list: readonly T[], index: number): T[] {
  return list.filter((_, i) => i !== index)
}

// ---- API errors at the rule they concern ----

export interface Issue {
  path: string
  message: string
}

export interface PlacedIssue {
  /** What within the node: `performed`, `where[0].value`; empty for the node itself. */
  field: string
  message: string
}

/**
 * Each issue of a 400 at the deepest node whose path starts it (`rule.all[2].where[0].value`
 * goes to the node at `rule.all[2]`, field `where[0].value`); issues of no node (the name,
 * the request as a whole) under the key `''`.
 */
export function placeIssues(tree: Node, issues: readonly Issue[]): Map<string, PlacedIssue[]> {
  const paths = [...pathsOf(tree).entries()].sort(([, a], [, b]) => b.length - a.length)
  const placed = new Map<string, PlacedIssue[]>()
  for (const issue of issues) {
    const hit = paths.find(([, path]) => startsPath(issue.path, path))
    const id = hit?.[0] ?? ''
    const field = hit ? issue.path.slice(hit[1].length).replace(/^\./, '') : issue.path
    placed.set(id, [...(placed.get(id) ?? []), { field, message: issue.message }])
  }
  return placed
}

function startsPath(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false
  const next = path[prefix.length]
  return next === undefined || next === '.' || next === '['
}

/** The issues in an API error's details (`{ issues: [{ path, message }] }`), if any. */
export function issuesOf(details: unknown): Issue[] {
  const issues = (details as { issues?: unknown } | undefined)?.issues
  if (!Array.isArray(issues)) return []
  return issues.filter(
    (issue): issue is Issue =>
      typeof issue?.path === 'string' && typeof issue?.message === 'string',
  )
}

/** How many leaves the tree holds: a rule of none matches everyone, which the view says. */
export function leafCount(node: Node): number {
  if (node.kind === 'leaf') return 1
  if (node.kind === 'not') return leafCount(node.child)
  return node.children.reduce((sum, child) => sum + leafCount(child), 0)
}

/** One line for a rule, for lists and titles: `plan eq "pro"`. */
export function summarize(rule: Rule): string {
  const value = (v: unknown) => (Array.isArray(v) ? `[${v.map(quote).join(', ')}]` : quote(v))
  const quote = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v))
  const cond = (c: ValueCondition) => (c.value === undefined ? c.op : `${c.op} ${value(c.value)}`)
  if ('all' in rule) return `(${rule.all.map(summarize).join(' and ')})`
  if ('any' in rule) return `(${rule.any.map(summarize).join(' or ')})`
  if ('not' in rule) return `not ${summarize(rule.not)}`
  if ('trait' in rule) {
    return 'duration' in rule
      ? `${rule.trait} ${rule.op} ${describeDuration(rule.duration)}`
      : `${rule.trait} ${cond(rule)}`
  }
  if ('performed' in rule) {
    const count = rule.count ? ` ${rule.count.op} ${rule.count.value} times` : ''
    const within = rule.within ? ` within ${describeDuration(rule.within)}` : ''
    return `performed ${rule.performed}${count}${within}`
  }
  if ('lastPerformed' in rule) return `last ${rule.lastPerformed} has ${rule.has.length}`
  if ('consent' in rule)
    return `consent ${rule.consent} ${rule.granted ? 'granted' : 'not granted'}`
  if ('message' in rule) return `message ${rule.message}`
  if ('subscribed' in rule) return `${rule.value ? '' : 'not '}subscribed to ${rule.subscribed}`
  if ('list' in rule) return `in list ${rule.list}`
  if ('bucket' in rule) return `bucket ${rule.bucket.percent}%`
  if ('inSegment' in rule) return `in segment ${rule.inSegment}`
  if ('journey' in rule) return `journey ${rule.journey} ${rule.state}`
  if ('account' in rule) return `account ${rule.account.trait} ${cond(rule.account)}`
  return `${rule.prediction} ${cond(rule)}`
}
