import { describe, expect, it } from 'vitest'
import type { JourneyDefinition, JourneyNode } from './definition'
import { checkNodeMap, mapNode } from './migrate'

function journey(nodes: Record<string, JourneyNode>): JourneyDefinition {
  return { entry: { event: 'Signed Up' }, start: Object.keys(nodes)[0]!, nodes }
}

// Version 1: email, wait a day, wait for an order, exit.
const v1 = journey({
  hello: { type: 'email', template: 'welcome', next: 'pause' },
  pause: { type: 'wait', for: { days: 1 }, next: 'order' },
  order: {
    type: 'waitFor',
    performed: 'Order Completed',
    timeout: { days: 3 },
    next: 'done',
    onTimeout: 'done',
  },
  done: { type: 'exit' },
})

// Version 2: the wait renamed, the waitFor kept, a new waitUntil.
const v2 = journey({
  hello: { type: 'email', template: 'welcome', next: 'rest' },
  rest: { type: 'wait', for: { days: 2 }, next: 'morning' },
  morning: { type: 'waitUntil', time: '09:00', next: 'order' },
  order: {
    type: 'waitFor',
    performed: 'Order Completed',
    timeout: { days: 3 },
    next: 'done',
    onTimeout: 'done',
  },
  done: { type: 'exit' },
})

describe('checkNodeMap', () => {
  it('accepts a map that places every waiting node on one of its type', () => {
    expect(checkNodeMap(v1, v2, { pause: 'rest' })).toEqual([])
  })

  it('refuses a mapped node that does not exist on either side', () => {
    expect(checkNodeMap(v1, v2, { pause: 'rest', gone: 'order', order: 'nowhere' })).toEqual([
      { path: 'nodeMap.gone', message: 'no node gone in the version migrated from' },
      { path: 'nodeMap.order', message: 'no node nowhere in the version migrated to' },
    ])
  })

  it('refuses a node mapped to one of another type', () => {
    expect(checkNodeMap(v1, v2, { pause: 'morning' })).toEqual([
      {
        path: 'nodeMap.pause',
        message:
          'pause is a wait node and morning a waitUntil node: a run waiting at one cannot wait at the other',
      },
    ])
  })

  it('refuses to leave runs at a waiting node the new version lacks', () => {
    expect(checkNodeMap(v1, v2, {})).toEqual([
      {
        path: 'nodeMap.pause',
        message:
          'runs waiting at pause would have nowhere to go: the version migrated to has no wait node pause; map it to one',
      },
    ])
  })

  it('refuses a same-named node of another type as the place for unmapped runs', () => {
    const v3 = journey({
      pause: { type: 'waitUntil', time: '10:00', next: 'order' },
      order: {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { days: 3 },
        next: 'done',
        onTimeout: 'done',
      },
      done: { type: 'exit' },
    })
    expect(checkNodeMap(v1, v3, {}).map((p) => p.path)).toEqual(['nodeMap.pause'])
  })

  it('looks only at the nodes runs wait at, when told which', () => {
    expect(checkNodeMap(v1, v2, {}, new Set(['order']))).toEqual([])
    expect(checkNodeMap(v1, v2, {}, new Set(['pause', 'order'])).map((p) => p.path)).toEqual([
      'nodeMap.pause',
    ])
  })

  it('does not take a name of an object property for a node', () => {
    expect(checkNodeMap(v1, v2, { pause: 'rest', toString: 'constructor' })).toEqual([
      { path: 'nodeMap.toString', message: 'no node toString in the version migrated from' },
      { path: 'nodeMap.toString', message: 'no node constructor in the version migrated to' },
    ])
  })
})

describe('mapNode', () => {
  it('moves a run to the node the map names', () => {
    expect(mapNode({ pause: 'rest' }, v1, v2, 'pause')).toBe('rest')
  })

  it('moves a run to the node of the same id and type when the map leaves it out', () => {
    expect(mapNode({ pause: 'rest' }, v1, v2, 'order')).toBe('order')
  })

  it('moves no run whose node has no place of its type', () => {
    expect(mapNode({}, v1, v2, 'pause')).toBeNull()
    expect(mapNode({ pause: 'morning' }, v1, v2, 'pause')).toBeNull()
    expect(mapNode({}, v1, v2, 'gone')).toBeNull()
  })
})
