import type { JourneyDefinition, JourneyNode } from '../../../domain/journeys/definition'

/**
 * What changed between two versions of a journey: nodes added, removed and changed (each change
 * field by field, `timeout.hours` or `cases[0].next`), and the journey's own settings (entry,
 * reentry, goal, exitWhen, start) the same way. Pure: the diff screen renders it.
 */

export interface FieldChange {
  /** `entry.event`, `timeout.hours`, `cases[1].rule`; empty for a value replaced whole. */
  path: string
  /** undefined: the field is not in that version. */
  before: unknown
  after: unknown
}

export interface NodeChange {
  id: string
  /** Set when the node's type changed: its fields are then listed against a different node. */
  type?: { before: JourneyNode['type']; after: JourneyNode['type'] }
  fields: FieldChange[]
}

export interface JourneyDiff {
  added: { id: string; node: JourneyNode }[]
  removed: { id: string; node: JourneyNode }[]
  changed: NodeChange[]
  /** The journey's settings: entry, reentry, goal, exitWhen and start, each field by field. */
  settings: FieldChange[]
}

const SETTINGS = ['entry', 'reentry', 'goal', 'exitWhen', 'start'] as const

export function diffJourneys(before: JourneyDefinition, after: JourneyDefinition): JourneyDiff {
  const added: JourneyDiff['added'] = []
  const removed: JourneyDiff['removed'] = []
  const changed: NodeChange[] = []
  for (const [id, node] of Object.entries(after.nodes)) {
    if (!Object.hasOwn(before.nodes, id)) added.push({ id, node })
  }
  for (const [id, node] of Object.entries(before.nodes)) {
    if (!Object.hasOwn(after.nodes, id)) {
      removed.push({ id, node })
      continue
    }
    const next = after.nodes[id]!
    const fields = fieldChanges(node, next)
    if (fields.length === 0) continue
    changed.push(
      node.type === next.type
        ? { id, fields }
        : { id, type: { before: node.type, after: next.type }, fields },
    )
  }
  const settings = SETTINGS.flatMap((key) => fieldChanges(before[key], after[key], key))
  return { added, removed, changed, settings }
}

export function isEmpty(diff: JourneyDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length + diff.settings.length === 0
}

/**
 * The leaves that differ between two JSON values, by path. Objects and arrays are walked (an
 * array by index, so a case inserted first shows every later case as changed, which is what
 * changed: the order decides which case wins); anything else differs by value.
 */
export function fieldChanges(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    return keys.flatMap((key) => fieldChanges(before[key], after[key], join(path, key)))
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length)
    return Array.from({ length }, (_, i) =>
      fieldChanges(before[i], after[i], `${path}[${i}]`),
    ).flat()
  }
  return same(before, after) ? [] : [{ path, before, after }]
}

function join(path: string, key: string) {
  return path ? `${path}.${key}` : key
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b)
}
