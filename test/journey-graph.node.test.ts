import { describe, expect, it } from 'vitest'
import {
  addNode,
  connect,
  defaultNode,
  edges,
  idProblem,
  layout,
  openSlots,
  problemsByNode,
  removeNode,
  renameNode,
  setStart,
  slots,
  summary,
} from '../console/src/models/journey-graph'
import { NODE_TYPES, type JourneyDefinition } from '../domain/journeys/definition'
import { validateGraph } from '../domain/journeys/validate'

/** The journey canvas's graph edits (console/src/models/journey-graph.ts), on plain definitions. */

const cart: JourneyDefinition = {
  entry: { event: 'Cart Updated' },
  start: 'wait',
  nodes: {
    wait: {
      type: 'waitFor',
      performed: 'Order Completed',
      timeout: { hours: 1 },
      next: 'done',
      onTimeout: 'remind',
    },
    remind: { type: 'email', template: 'cart', next: 'done' },
    done: { type: 'exit' },
  },
}

const choice: JourneyDefinition = {
  entry: { api: true },
  start: 'b',
  nodes: {
    b: {
      type: 'branch',
      cases: [
        { rule: { trait: 'plan', op: 'eq', value: 'pro' }, next: 'x' },
        { rule: { trait: 'plan', op: 'exists' }, next: 'y' },
      ],
      otherwise: 'x',
    },
    x: { type: 'exit' },
    y: { type: 'exit' },
  },
}

describe('journey graph', () => {
  it('names each outgoing slot by the path the API uses for it', () => {
    expect(slots(cart.nodes.wait!)).toEqual([
      { handle: 'next', label: 'next', target: 'done' },
      { handle: 'onTimeout', label: 'onTimeout', target: 'remind' },
    ])
    expect(slots(choice.nodes.b!).map((s) => [s.handle, s.label])).toEqual([
      ['cases[0].next', 'case 1'],
      ['cases[1].next', 'case 2'],
      ['otherwise', 'otherwise'],
    ])
    expect(slots({ type: 'exit' })).toEqual([])
    expect(
      slots({
        type: 'nextBestAction',
        actions: [{ action: 'upsell', next: 'x' }],
        otherwise: 'x',
      }).map((s) => [s.handle, s.label]),
    ).toEqual([
      ['actions[0].next', 'upsell'],
      ['otherwise', 'otherwise'],
    ])
  })

  it('draws an edge per slot that leads to a node, none for a dangling or open one', () => {
    expect(edges(cart)).toEqual([
      { id: 'wait:next', source: 'wait', sourceHandle: 'next', target: 'done' },
      { id: 'wait:onTimeout', source: 'wait', sourceHandle: 'onTimeout', target: 'remind' },
      { id: 'remind:next', source: 'remind', sourceHandle: 'next', target: 'done' },
    ])
    const dangling = connect(cart, 'remind', 'next', 'gone')
    expect(edges(dangling).map((e) => e.id)).not.toContain('remind:next')
  })

  it('connects any slot, a listed one by position, and leaves the original untouched', () => {
    const moved = connect(choice, 'b', 'cases[1].next', 'x')
    expect(moved.nodes.b).toMatchObject({
      cases: [{ next: 'x' }, { next: 'x' }],
      otherwise: 'x',
    })
    expect(choice.nodes.b).toMatchObject({ cases: [{ next: 'x' }, { next: 'y' }] })
    expect(connect(cart, 'wait', 'onTimeout', 'done').nodes.wait).toMatchObject({
      next: 'done',
      onTimeout: 'done',
    })
    // A handle the node does not have changes nothing.
    expect(connect(cart, 'done', 'next', 'wait')).toBe(cart)
    expect(connect(choice, 'b', 'cases[5].next', 'x').nodes.b).toEqual(choice.nodes.b)
  })

  it('removes a node and leaves every slot and the start that named it open', () => {
    const without = removeNode(cart, 'done')
    expect(Object.keys(without.nodes)).toEqual(['wait', 'remind'])
    expect(without.nodes.wait).toMatchObject({ next: '', onTimeout: 'remind' })
    expect(without.nodes.remind).toMatchObject({ next: '' })
    expect(openSlots(without)).toEqual({
      wait: ['next: not connected'],
      remind: ['next: not connected'],
    })
    expect(removeNode(cart, 'wait').start).toBe('')
  })

  it('renames a node with every link and the start that named it', () => {
    const renamed = renameNode(cart, 'wait', 'hold')
    expect(renamed.start).toBe('hold')
    expect(Object.keys(renamed.nodes)).toEqual(['hold', 'remind', 'done'])
    const self = renameNode(
      { entry: { api: true }, start: 'a', nodes: { a: { type: 'wait', for: {}, next: 'a' } } },
      'a',
      'b',
    )
    expect(self.nodes).toEqual({ b: { type: 'wait', for: {}, next: 'b' } })
    expect(idProblem(cart, 'remind')).toBe('there is already a node remind')
    expect(idProblem(cart, 'remind', 'remind')).toBeNull()
    expect(idProblem(cart, 'a b')).toMatch(/letters, digits/)
  })

  it('changes the start only to a node that exists', () => {
    expect(setStart(cart, 'remind').start).toBe('remind')
    expect(setStart(cart, 'nope')).toBe(cart)
  })

  it('adds every node type with its fields, joined to the open slot of the node it follows', () => {
    const empty: JourneyDefinition = { entry: { api: true }, start: '', nodes: {} }
    const first = addNode(empty, 'waitFor')
    expect(first.id).toBe('waitFor1')
    expect(first.definition.start).toBe('waitFor1')
    const second = addNode(first.definition, 'email', { from: 'waitFor1', firstTemplate: 't1' })
    expect(second.id).toBe('email1')
    expect(second.definition.nodes.waitFor1).toMatchObject({ next: 'email1', onTimeout: '' })
    expect(second.definition.nodes.email1).toEqual({ type: 'email', template: 't1', next: '' })
    const third = addNode(second.definition, 'email', { from: 'waitFor1' })
    expect(third.id).toBe('email2')
    expect(third.definition.nodes.waitFor1).toMatchObject({ next: 'email1', onTimeout: 'email2' })
    expect(third.definition.start).toBe('waitFor1')

    // Each default, once connected, passes the graph check (only the named template aside).
    for (const type of NODE_TYPES) {
      const node = defaultNode(type, 't1')
      expect(node.type).toBe(type)
      let definition: JourneyDefinition = {
        entry: { api: true },
        start: 'n',
        nodes: type === 'exit' ? { n: node } : { n: node, end: { type: 'exit' } },
      }
      for (const slot of slots(node)) definition = connect(definition, 'n', slot.handle, 'end')
      expect(openSlots(definition), type).toEqual({})
      const known = { templates: new Set(['t1']), segments: new Set<string>() }
      expect(validateGraph(definition, known), type).toEqual([])
      expect(summary(node)).not.toBe('')
    }
  })

  it('sorts the API problems to the nodes they concern', () => {
    expect(
      problemsByNode([
        { path: 'nodes.n3.next', message: 'no node x' },
        { path: 'definition.nodes.n3.timeout.days', message: 'Too big' },
        { path: 'nodes.n4', message: 'unreachable: no path from start a leads here' },
        { path: 'start', message: 'no node a' },
        { path: 'definition.entry.event', message: 'required' },
      ]),
    ).toEqual({
      nodes: {
        n3: ['next: no node x', 'timeout.days: Too big'],
        n4: ['unreachable: no path from start a leads here'],
      },
      other: ['start: no node a', 'entry.event: required'],
    })
  })

  it('says what a node does in one line', () => {
    expect(summary(cart.nodes.wait!)).toBe('wait for Order Completed · 1 hour')
    expect(summary(cart.nodes.remind!, { cart: 'Cart reminder' })).toBe('email Cart reminder')
    expect(summary({ type: 'wait', for: { days: 2 }, next: 'x' })).toBe('wait 2 days')
    expect(summary({ type: 'list', remove: 'vip', next: 'x' })).toBe('remove from vip')
  })

  it('lays out in layers by distance from the start, the unreachable below', () => {
    const withStray = {
      ...choice,
      nodes: { ...choice.nodes, stray: { type: 'wait', for: { days: 1 }, next: 'x' } as const },
    }
    const at = layout(withStray)
    expect(at.b!.x).toBe(0)
    expect(at.x!.x).toBeGreaterThan(0)
    expect(at.y!.x).toBe(at.x!.x)
    expect(at.x!.y).toBeLessThan(at.y!.y)
    expect(at.stray!.x).toBe(0)
    const bottom = Math.max(at.b!.y, at.x!.y, at.y!.y)
    expect(at.stray!.y).toBeGreaterThan(bottom)
    expect(Object.keys(layout({ entry: { api: true }, start: '', nodes: {} }))).toEqual([])
  })

  it('puts a node after the furthest node that leads to it, loops back aside', () => {
    const at = layout(cart)
    expect([at.wait!.x, at.remind!.x, at.done!.x]).toEqual([0, 320, 640])
    const loop: JourneyDefinition = {
      entry: { api: true },
      start: 'a',
      nodes: {
        a: { type: 'wait', for: { days: 1 }, next: 'b' },
        b: { type: 'track', event: 'Tick', next: 'a' },
      },
    }
    const looped = layout(loop)
    expect([looped.a!.x, looped.b!.x]).toEqual([0, 320])
  })
})
