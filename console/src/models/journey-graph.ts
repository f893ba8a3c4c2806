import type { JourneyDefinition, JourneyNode, NodeType } from '../../../domain/journeys/definition'
import type { Duration } from '../../../domain/segments/rule'

/**
 * The journey definition seen as a graph, and the edits the canvas makes to it. Pure: a
 * definition in, a new definition out, never changed in place. An outgoing slot that leads
 * nowhere yet holds `''` (a node just added, a link deleted); the canvas shows it as a problem
 * and the API refuses it, so nothing half-built is saved.
 */

export interface Point {
  x: number
  y: number
}

/**
 * One outgoing link of a node. `handle` is the field's path as the API's validation spells it
 * (`next`, `onTimeout`, `otherwise`, `cases[0].next`, `paths[1].next`, `actions[2].next`), so a
 * problem on a link names its handle.
 */
export interface Slot {
  handle: string
  label: string
  target: string
}

export interface GraphEdge {
  id: string
  source: string
  sourceHandle: string
  target: string
}

export function slots(node: JourneyNode): Slot[] {
  switch (node.type) {
    case 'exit':
      return []
    case 'waitFor':
      return [
        { handle: 'next', label: 'next', target: node.next },
        { handle: 'onTimeout', label: 'onTimeout', target: node.onTimeout },
      ]
    case 'branch':
      return [
        ...node.cases.map((c, i) => ({
          handle: `cases[${i}].next`,
          label: `case ${i + 1}`,
          target: c.next,
        })),
        { handle: 'otherwise', label: 'otherwise', target: node.otherwise },
      ]
    case 'split':
      return node.paths.map((p, i) => ({
        handle: `paths[${i}].next`,
        label: `path ${i + 1}`,
        target: p.next,
      }))
    case 'experiment':
      return node.paths.map((p, i) => ({
        handle: `paths[${i}].next`,
        label: p.name || `path ${i + 1}`,
        target: p.next,
      }))
    case 'nextBestAction':
      return [
        ...node.actions.map((a, i) => ({
          handle: `actions[${i}].next`,
          label: a.action || `action ${i + 1}`,
          target: a.next,
        })),
        { handle: 'otherwise', label: 'otherwise', target: node.otherwise },
      ]
    default:
      return [{ handle: 'next', label: 'next', target: node.next }]
  }
}

/** Every link whose target is a node of the definition (a dangling name draws no edge). */
export function edges(definition: JourneyDefinition): GraphEdge[] {
  return Object.entries(definition.nodes).flatMap(([source, node]) =>
    slots(node)
      .filter((slot) => Object.hasOwn(definition.nodes, slot.target))
      .map((slot) => ({
        id: `${source}:${slot.handle}`,
        source,
        sourceHandle: slot.handle,
        target: slot.target,
      })),
  )
}

/** Sets the field a slot stands for; `target` `''` leaves it unconnected. */
export function connect(
  definition: JourneyDefinition,
  source: string,
  handle: string,
  target: string,
): JourneyDefinition {
  const node = definition.nodes[source]
  const changed = node && setSlot(node, handle, target)
  return changed && changed !== node ? withNode(definition, source, changed) : definition
}

function setSlot(node: JourneyNode, handle: string, target: string): JourneyNode {
  const listed = /^(cases|paths|actions)\[(\d+)\]\.next$/.exec(handle)
  if (listed) {
    const [, field, index] = listed as unknown as [string, 'cases' | 'paths' | 'actions', string]
    const list = (node as unknown as Record<string, { next: string }[] | undefined>)[field]
    const at = Number(index)
    if (!list || at >= list.length) return node
    return {
      ...node,
      [field]: list.map((item, i) => (i === at ? { ...item, next: target } : item)),
    } as JourneyNode
  }
  if (!slots(node).some((slot) => slot.handle === handle)) return node
  return { ...node, [handle]: target } as JourneyNode
}

/** Puts `node` at `id`, keeping the other nodes' order. */
export function withNode(
  definition: JourneyDefinition,
  id: string,
  node: JourneyNode,
): JourneyDefinition {
  return { ...definition, nodes: { ...definition.nodes, [id]: node } }
}

/** Removes a node; every slot that led to it is left unconnected, and so is `start`. */
export function removeNode(definition: JourneyDefinition, id: string): JourneyDefinition {
  const nodes: Record<string, JourneyNode> = {}
  for (const [other, node] of Object.entries(definition.nodes)) {
    if (other === id) continue
    nodes[other] = retarget(node, id, '')
  }
  return { ...definition, start: definition.start === id ? '' : definition.start, nodes }
}

/** Gives a node a new id, and every slot and `start` that named it the new one. */
export function renameNode(
  definition: JourneyDefinition,
  from: string,
  to: string,
): JourneyDefinition {
  if (from === to || !Object.hasOwn(definition.nodes, from)) return definition
  const nodes: Record<string, JourneyNode> = {}
  for (const [id, node] of Object.entries(definition.nodes)) {
    nodes[id === from ? to : id] = retarget(node, from, to)
  }
  return { ...definition, start: definition.start === from ? to : definition.start, nodes }
}

/** Why an id cannot name a node (the API's rule, and no two alike), or null when it can. */
export function idProblem(definition: JourneyDefinition, id: string, current?: string) {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return 'letters, digits, _ and - only (1 to 64)'
  if (id !== current && Object.hasOwn(definition.nodes, id)) return `there is already a node ${id}`
  return null
}

function retarget(node: JourneyNode, from: string, to: string): JourneyNode {
  return slots(node).reduce(
    (changed, slot) => (slot.target === from ? setSlot(changed, slot.handle, to) : changed),
    node,
  )
}

export function setStart(definition: JourneyDefinition, id: string): JourneyDefinition {
  return Object.hasOwn(definition.nodes, id) ? { ...definition, start: id } : definition
}

/** A node of the type with every required field filled, its slots unconnected. */
export function defaultNode(type: NodeType, firstTemplate = ''): JourneyNode {
  switch (type) {
    case 'wait':
      return { type, for: { days: 1 }, next: '' }
    case 'waitUntil':
      return { type, time: '09:00', next: '' }
    case 'waitFor':
      return { type, performed: '', timeout: { days: 1 }, next: '', onTimeout: '' }
    case 'branch':
      return { type, cases: [{ rule: { trait: 'plan', op: 'exists' }, next: '' }], otherwise: '' }
    case 'split':
      return {
        type,
        paths: [
          { weight: 50, next: '' },
          { weight: 50, next: '' },
        ],
      }
    case 'experiment':
      return {
        type,
        paths: [
          { name: 'A', weight: 50, next: '' },
          { name: 'B', weight: 50, next: '' },
        ],
        minPerPath: 100,
      }
    case 'email':
      return { type, template: firstTemplate, next: '' }
    case 'webhook':
      return { type, url: 'https://', method: 'POST', next: '' }
    case 'updateTraits':
      return { type, traits: {}, next: '' }
    case 'list':
      return { type, add: '', next: '' }
    case 'ticket':
      return { type, subject: '', body: '', next: '' }
    case 'track':
      return { type, event: '', next: '' }
    case 'nextBestAction':
      return { type, actions: [{ action: '', next: '' }], otherwise: '' }
    case 'exit':
      return { type }
  }
}

/** The first free id of the form `<type><n>` (`email1`, `email2` …). */
export function freshId(definition: JourneyDefinition, type: NodeType): string {
  for (let n = 1; ; n++) {
    if (!Object.hasOwn(definition.nodes, `${type}${n}`)) return `${type}${n}`
  }
}

/**
 * Adds a node of a type. When `from` is given, its first unconnected slot leads to the new node
 * (adding after the selected node builds a path without dragging); a journey with no start
 * starts at it.
 */
export function addNode(
  definition: JourneyDefinition,
  type: NodeType,
  options: { from?: string; firstTemplate?: string } = {},
): { definition: JourneyDefinition; id: string } {
  const id = freshId(definition, type)
  let next = withNode(definition, id, defaultNode(type, options.firstTemplate))
  const from = options.from ? next.nodes[options.from] : undefined
  const open = from && slots(from).find((slot) => slot.target === '')
  if (open) next = connect(next, options.from!, open.handle, id)
  if (!Object.hasOwn(next.nodes, next.start)) next = { ...next, start: id }
  return { definition: next, id }
}

/** Node id → "next: not connected" for each slot that leads nowhere yet. */
export function openSlots(definition: JourneyDefinition): Record<string, string[]> {
  const open: Record<string, string[]> = {}
  for (const [id, node] of Object.entries(definition.nodes)) {
    const labels = slots(node)
      .filter((slot) => slot.target === '')
      .map((slot) => `${slot.handle}: not connected`)
    if (labels.length > 0) open[id] = labels
  }
  return open
}

/** A problem as the API answers it in `details.issues` (400 on saving a version). */
export interface Issue {
  path: string
  message: string
}

/**
 * The API's problems sorted to the nodes they concern: `nodes.n3.next` (the graph check) and
 * `definition.nodes.n3.next` (the schema, on the request body) both go to `n3` as
 * `next: <message>`; problems elsewhere (`start`, `entry.segment`) are `other`.
 */
export function problemsByNode(issues: readonly Issue[]): {
  nodes: Record<string, string[]>
  other: string[]
} {
  const nodes: Record<string, string[]> = {}
  const other: string[] = []
  for (const { path, message } of issues) {
    const inNode = /^(?:definition\.)?nodes\.([A-Za-z0-9_-]+)(?:\.(.+))?$/.exec(path)
    if (!inNode) {
      other.push(`${path.replace(/^definition\./, '')}: ${message}`)
      continue
    }
    const [, id, field] = inNode as unknown as [string, string, string | undefined]
    ;(nodes[id] ??= []).push(field ? `${field}: ${message}` : message)
  }
  return { nodes, other }
}

export function formatDuration(duration: Duration): string {
  const parts = (
    [
      ['day', duration.days],
      ['hour', duration.hours],
      ['minute', duration.minutes],
    ] as const
  )
    .filter(([, count]) => count !== undefined && count > 0)
    .map(([unit, count]) => `${count} ${unit}${count === 1 ? '' : 's'}`)
  return parts.length > 0 ? parts.join(' ') : 'no time'
}

/** One line that says what a node does ("wait 2 days", "email welcome"). */
export function summary(node: JourneyNode, names: Record<string, string> = {}): string {
  const named = (id: string) => (id === '' ? '(none)' : (names[id] ?? id))
  switch (node.type) {
    case 'wait':
      return `wait ${formatDuration(node.for)}`
    case 'waitUntil': {
      const days = node.days ? ` ${node.days.join(', ')}` : ''
      const zone = node.timezone && node.timezone !== 'contact' ? ` (${node.timezone})` : ''
      return `until ${node.time}${days}${zone}`
    }
    case 'waitFor':
      return `wait for ${node.performed || '(no event)'} · ${formatDuration(node.timeout)}`
    case 'branch':
      return `${node.cases.length} case${node.cases.length === 1 ? '' : 's'} + otherwise`
    case 'split':
      return `split ${node.paths.map((p) => p.weight).join(' / ')}`
    case 'experiment':
      return `${node.paths.map((p) => `${p.name} ${p.weight}`).join(' · ')} · min ${node.minPerPath}`
    case 'email':
      return `email ${named(node.template)}`
    case 'webhook':
      return `${node.method ?? 'POST'} ${node.url}`
    case 'updateTraits': {
      const keys = Object.keys(node.traits)
      return keys.length > 0 ? `set ${keys.join(', ')}` : 'set (no traits)'
    }
    case 'list':
      return 'add' in node ? `add to ${named(node.add)}` : `remove from ${named(node.remove)}`
    case 'ticket':
      return `ticket ${node.subject || '(no subject)'}`
    case 'track':
      return `track ${node.event || '(no event)'}`
    case 'nextBestAction':
      return `${node.actions.length} action${node.actions.length === 1 ? '' : 's'} + otherwise`
    case 'exit':
      return 'end of the journey'
  }
}

export const NODE_WIDTH = 240
const LAYER_GAP = 80
const ROW_GAP = 28

/** A node's drawn height: its header and summary, then one row per outgoing slot. */
export function nodeHeight(node: JourneyNode): number {
  return 58 + Math.max(1, slots(node).length) * 20
}

/**
 * Positions for every node, left to right in layers: a node sits one layer after the furthest
 * node that leads to it (the longest path from `start`, links that loop back aside), so a
 * path reads left to right and an exit shared by many paths comes after all of them. Within a
 * layer nodes follow a depth-first walk in slot order, keeping a branch's nodes together.
 * Nodes no path reaches are laid out the same way from each of them in id order, in bands of
 * their own below. Each layer is centred on the tallest.
 */
export function layout(definition: JourneyDefinition): Record<string, Point> {
  const { nodes } = definition
  const targets = (id: string) =>
    slots(nodes[id]!)
      .map((slot) => slot.target)
      .filter((target) => Object.hasOwn(nodes, target))
  const placed = new Set<string>()
  const bands: string[][][] = []
  for (const root of [definition.start, ...Object.keys(nodes).sort()]) {
    if (!Object.hasOwn(nodes, root) || placed.has(root)) continue
    // Depth first from the root: the visiting order, and which links loop back to a node on
    // the way (those are left out of the layering, which then has no cycle).
    const order: string[] = []
    const onWay = new Set<string>()
    const back = new Set<string>()
    const visit = (id: string) => {
      placed.add(id)
      onWay.add(id)
      order.push(id)
      for (const target of targets(id)) {
        if (onWay.has(target)) back.add(`${id}>${target}`)
        else if (!placed.has(target)) visit(target)
      }
      onWay.delete(id)
    }
    visit(root)
    // Longest path over the links that remain, in an order where every node comes after all
    // that lead to it (Kahn).
    const inBand = new Set(order)
    const forward = (id: string) =>
      targets(id).filter((t) => inBand.has(t) && !back.has(`${id}>${t}`))
    const waiting = new Map(order.map((id) => [id, 0]))
    for (const id of order) for (const t of forward(id)) waiting.set(t, waiting.get(t)! + 1)
    const depth = new Map(order.map((id) => [id, 0]))
    const ready = order.filter((id) => waiting.get(id) === 0)
    for (let id = ready.shift(); id !== undefined; id = ready.shift()) {
      for (const t of forward(id)) {
        depth.set(t, Math.max(depth.get(t)!, depth.get(id)! + 1))
        waiting.set(t, waiting.get(t)! - 1)
        if (waiting.get(t) === 0) ready.push(t)
      }
    }
    const layers: string[][] = []
    for (const id of order) (layers[depth.get(id)!] ??= []).push(id)
    bands.push(layers)
  }

  const positions: Record<string, Point> = {}
  let top = 0
  for (const layers of bands) {
    const heights = layers.map((layer) =>
      layer.reduce((sum, id) => sum + nodeHeight(definition.nodes[id]!) + ROW_GAP, -ROW_GAP),
    )
    const tallest = Math.max(...heights)
    layers.forEach((layer, d) => {
      let y = top + (tallest - heights[d]!) / 2
      for (const id of layer) {
        positions[id] = { x: d * (NODE_WIDTH + LAYER_GAP), y }
        y += nodeHeight(definition.nodes[id]!) + ROW_GAP
      }
    })
    top += tallest + ROW_GAP * 3
  }
  return positions
}
