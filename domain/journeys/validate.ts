import type { Rule } from '../segments/rule'
import { WAITING_TYPES, type JourneyDefinition, type JourneyNode } from './definition'

/**
 * The graph check a definition passes before it is saved or simulated (after the schema in
 * contracts/journey.ts): every node it names exists, every node can be reached from `start`, no
 * loop runs without a wait, and each template, segment, list and subscription group it names
 * exists. It answers every problem at once, ordered by path, so a marketer fixes them in one go.
 *
 * Not problems: a graph with no way to an exit (a run may wait forever, or end at a node with
 * nowhere to go), and an experiment's `minPerPath` (any count the schema takes is a choice).
 */

export interface Problem {
  /** Where, as validation errors spell paths: `start`, `nodes.n3.next`, `entry.segment` … */
  path: string
  message: string
}

/** What a definition may name. Lists and subscription groups are checked only when given. */
export interface KnownReferences {
  templates: ReadonlySet<string>
  segments: ReadonlySet<string>
  lists?: ReadonlySet<string>
  subscriptionGroups?: ReadonlySet<string>
}

export function validateGraph(definition: JourneyDefinition, known: KnownReferences): Problem[] {
  const problems: Problem[] = []
  const { nodes } = definition
  const has = (id: string) => Object.hasOwn(nodes, id)

  if (!has(definition.start)) {
    problems.push({ path: 'start', message: `no node ${definition.start}` })
  }
  for (const [id, node] of Object.entries(nodes)) {
    for (const link of links(node)) {
      if (!has(link.next)) {
        problems.push({ path: `nodes.${id}.${link.path}`, message: `no node ${link.next}` })
      }
    }
    problems.push(...nodeReferences(id, node, known))
  }
  // With no start every node is unreachable: the start problem says it once.
  if (has(definition.start)) {
    const reached = reachable(definition)
    for (const id of Object.keys(nodes)) {
      if (!reached.has(id)) {
        problems.push({
          path: `nodes.${id}`,
          message: `unreachable: no path from start ${definition.start} leads here`,
        })
      }
    }
  }
  for (const loop of loopsWithoutWait(nodes)) {
    const also = loop.others.length > 0 ? `; ${loop.others.join(', ')} loop with it too` : ''
    problems.push({
      path: `nodes.${loop.cycle[0]}`,
      message: `a loop with no wait, wait-until or wait-for: ${loop.cycle.join(' → ')}${also}`,
    })
  }

  const entry = definition.entry
  if ('segment' in entry && !known.segments.has(entry.segment)) {
    problems.push({ path: 'entry.segment', message: `no segment ${entry.segment}` })
  }
  if (definition.exitWhen) problems.push(...ruleReferences(definition.exitWhen, 'exitWhen', known))

  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** The nodes a node leads to, each with the path of the field that names it. */
function links(node: JourneyNode): { path: string; next: string }[] {
  switch (node.type) {
    case 'exit':
      return []
    case 'waitFor':
      return [
        { path: 'next', next: node.next },
        { path: 'onTimeout', next: node.onTimeout },
      ]
    case 'branch':
      return [
        ...node.cases.map((c, i) => ({ path: `cases[${i}].next`, next: c.next })),
        { path: 'otherwise', next: node.otherwise },
      ]
    case 'split':
    case 'experiment':
      return node.paths.map((p, i) => ({ path: `paths[${i}].next`, next: p.next }))
    case 'nextBestAction':
      return [
        ...node.actions.map((a, i) => ({ path: `actions[${i}].next`, next: a.next })),
        { path: 'otherwise', next: node.otherwise },
      ]
    default:
      return [{ path: 'next', next: node.next }]
  }
}

function nodeReferences(id: string, node: JourneyNode, known: KnownReferences): Problem[] {
  const at = `nodes.${id}`
  const problems: Problem[] = []
  if (node.type === 'email') {
    if (!known.templates.has(node.template)) {
      problems.push({ path: `${at}.template`, message: `no template ${node.template}` })
    }
    if (node.subscriptionGroup !== undefined && known.subscriptionGroups) {
      if (!known.subscriptionGroups.has(node.subscriptionGroup)) {
        problems.push({
          path: `${at}.subscriptionGroup`,
          message: `no subscription group ${node.subscriptionGroup}`,
        })
      }
    }
  } else if (node.type === 'list' && known.lists) {
    const [field, list] = 'add' in node ? ['add', node.add] : ['remove', node.remove]
    if (!known.lists.has(list))
      problems.push({ path: `${at}.${field}`, message: `no list ${list}` })
  } else if (node.type === 'branch') {
    node.cases.forEach((c, i) => {
      problems.push(...ruleReferences(c.rule, `${at}.cases[${i}].rule`, known))
    })
  }
  return problems
}

/** Segments, lists and subscription groups a rule names, walked through all, any and not. */
function ruleReferences(rule: Rule, path: string, known: KnownReferences): Problem[] {
  if ('all' in rule)
    return rule.all.flatMap((r, i) => ruleReferences(r, `${path}.all[${i}]`, known))
  if ('any' in rule)
    return rule.any.flatMap((r, i) => ruleReferences(r, `${path}.any[${i}]`, known))
  if ('not' in rule) return ruleReferences(rule.not, `${path}.not`, known)
  if ('inSegment' in rule && !known.segments.has(rule.inSegment)) {
    return [{ path: `${path}.inSegment`, message: `no segment ${rule.inSegment}` }]
  }
  if ('list' in rule && known.lists && !known.lists.has(rule.list)) {
    return [{ path: `${path}.list`, message: `no list ${rule.list}` }]
  }
  if ('subscribed' in rule && known.subscriptionGroups) {
    if (!known.subscriptionGroups.has(rule.subscribed)) {
      return [{ path: `${path}.subscribed`, message: `no subscription group ${rule.subscribed}` }]
    }
  }
  return []
}

function reachable(definition: JourneyDefinition): Set<string> {
  const seen = new Set([definition.start])
  const queue = [definition.start]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const { next } of links(definition.nodes[id]!)) {
      if (Object.hasOwn(definition.nodes, next) && !seen.has(next)) {
        seen.add(next)
        queue.push(next)
      }
    }
  }
  return seen
}

/**
 * Every loop that passes no waiting node: the strongly connected parts of the graph left once
 * waiting nodes are taken out (Tarjan), each as one of its cycles in order (from its first node
 * by id, back to it) and the other nodes of the part, which loop through it by other ways.
 */
function loopsWithoutWait(
  nodes: Record<string, JourneyNode>,
): { cycle: string[]; others: string[] }[] {
  const ids = Object.keys(nodes)
    .filter((id) => !WAITING_TYPES.has(nodes[id]!.type))
    .sort()
  const inGraph = new Set(ids)
  const edges = new Map(
    ids.map((id) => [
      id,
      links(nodes[id]!)
        .map((l) => l.next)
        .filter((n) => inGraph.has(n)),
    ]),
  )

  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const parts: string[][] = []
  const connect = (id: string) => {
    index.set(id, index.size)
    low.set(id, index.get(id)!)
    stack.push(id)
    onStack.add(id)
    for (const next of edges.get(id)!) {
      if (!index.has(next)) {
        connect(next)
        low.set(id, Math.min(low.get(id)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(id, Math.min(low.get(id)!, index.get(next)!))
      }
    }
    if (low.get(id) !== index.get(id)) return
    const part: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      part.push(member)
    } while (member !== id)
    parts.push(part.sort())
  }
  for (const id of ids) if (!index.has(id)) connect(id)

  return parts
    .filter((part) => part.length > 1 || edges.get(part[0]!)!.includes(part[0]!))
    .map((part) => {
      const cycle = cycleThrough(part[0]!, new Set(part), edges)
      return { cycle, others: part.filter((id) => !cycle.includes(id)) }
    })
    .sort((a, b) => (a.cycle[0]! < b.cycle[0]! ? -1 : 1))
}

/** A cycle from `start` back to it inside one strongly connected part (one always exists). */
function cycleThrough(
  start: string,
  part: ReadonlySet<string>,
  edges: ReadonlyMap<string, string[]>,
): string[] {
  // Breadth first from start: the first way back is a shortest cycle, and each node's parent
  // spells the way.
  const parent = new Map<string, string>()
  const queue = [start]
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const next of edges.get(id)!) {
      if (!part.has(next)) continue
      if (next === start) {
        const way = [start]
        for (let at = id; at !== start; at = parent.get(at)!) way.push(at)
        way.push(start)
        return way.reverse()
      }
      if (!parent.has(next)) {
        parent.set(next, id)
        queue.push(next)
      }
    }
  }
  throw new Error(`no cycle through ${start} in its strongly connected part`)
}
