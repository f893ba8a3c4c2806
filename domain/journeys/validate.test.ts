import { describe, expect, it } from 'vitest'
import type { JourneyDefinition, JourneyNode } from './definition'
import { validateGraph, type KnownReferences } from './validate'

const known: KnownReferences = {
  templates: new Set(['welcome', 'tips']),
  segments: new Set(['vip', 'active']),
  lists: new Set(['newsletter']),
  subscriptionGroups: new Set(['product-news']),
}

function journey(
  nodes: Record<string, JourneyNode>,
  extra: Partial<JourneyDefinition> = {},
): JourneyDefinition {
  return { entry: { event: 'Signed Up' }, start: Object.keys(nodes)[0]!, nodes, ...extra }
}

const exit: JourneyNode = { type: 'exit' }

describe('validateGraph', () => {
  it('accepts a graph whose every reference exists and whose loop waits', () => {
    const definition = journey(
      {
        hello: { type: 'email', template: 'welcome', subscriptionGroup: 'product-news', next: 'b' },
        b: {
          type: 'branch',
          cases: [{ rule: { inSegment: 'vip' }, next: 'join' }],
          otherwise: 'pause',
        },
        join: { type: 'list', add: 'newsletter', next: 'done' },
        pause: { type: 'wait', for: { days: 1 }, next: 'b' },
        done: exit,
      },
      { exitWhen: { not: { inSegment: 'active' } } },
    )
    expect(validateGraph(definition, known)).toEqual([])
  })

  it('names an unknown start', () => {
    const definition = journey({ a: exit }, { start: 'first' })
    expect(validateGraph(definition, known)).toEqual([{ path: 'start', message: 'no node first' }])
  })

  it('names every field that points at no node, each by its path', () => {
    const definition = journey({
      a: { type: 'track', event: 'X', next: 'a2' },
      a2: { type: 'waitFor', performed: 'Y', timeout: { hours: 1 }, next: 'b', onTimeout: 'gone1' },
      b: {
        type: 'branch',
        cases: [
          { rule: { trait: 'plan', op: 'eq', value: 'pro' }, next: 'c' },
          { rule: { trait: 'plan', op: 'eq', value: 'free' }, next: 'gone2' },
        ],
        otherwise: 'gone3',
      },
      c: {
        type: 'split',
        paths: [
          { weight: 1, next: 'd' },
          { weight: 1, next: 'gone4' },
        ],
      },
      d: {
        type: 'experiment',
        paths: [
          { name: 'A', weight: 1, next: 'gone5' },
          { name: 'B', weight: 1, next: 'e' },
        ],
        minPerPath: 100,
      },
      e: {
        type: 'nextBestAction',
        actions: [{ action: 'discount', next: 'gone6' }],
        otherwise: 'gone7',
      },
      f: { type: 'updateTraits', traits: {}, next: 'gone8' },
    })
    const problems = validateGraph(definition, known)
    expect(problems.filter((p) => p.message.startsWith('no node'))).toEqual([
      { path: 'nodes.a2.onTimeout', message: 'no node gone1' },
      { path: 'nodes.b.cases[1].next', message: 'no node gone2' },
      { path: 'nodes.b.otherwise', message: 'no node gone3' },
      { path: 'nodes.c.paths[1].next', message: 'no node gone4' },
      { path: 'nodes.d.paths[0].next', message: 'no node gone5' },
      { path: 'nodes.e.actions[0].next', message: 'no node gone6' },
      { path: 'nodes.e.otherwise', message: 'no node gone7' },
      { path: 'nodes.f.next', message: 'no node gone8' },
    ])
  })

  it('does not take a name of an object property for a node', () => {
    const definition = journey({ a: { type: 'track', event: 'X', next: 'constructor' } })
    expect(validateGraph(definition, known)).toEqual([
      { path: 'nodes.a.next', message: 'no node constructor' },
    ])
  })

  it('names each node no path from start reaches', () => {
    const definition = journey({
      a: { type: 'email', template: 'welcome', next: 'done' },
      done: exit,
      orphan: { type: 'email', template: 'tips', next: 'orphan2' },
      orphan2: exit,
    })
    expect(validateGraph(definition, known)).toEqual([
      { path: 'nodes.orphan', message: 'unreachable: no path from start a leads here' },
      { path: 'nodes.orphan2', message: 'unreachable: no path from start a leads here' },
    ])
  })

  it('refuses a loop that passes no waiting node, naming its nodes in order', () => {
    const definition = journey({
      start: { type: 'email', template: 'welcome', next: 'b' },
      b: {
        type: 'branch',
        cases: [{ rule: { trait: 'plan', op: 'exists' }, next: 'done' }],
        otherwise: 'c',
      },
      c: { type: 'track', event: 'Looped', next: 'd' },
      d: { type: 'email', template: 'tips', next: 'b' },
      done: exit,
    })
    expect(validateGraph(definition, known)).toEqual([
      { path: 'nodes.b', message: 'a loop with no wait, wait-until or wait-for: b → c → d → b' },
    ])
  })

  it('refuses a node that leads to itself', () => {
    const definition = journey({ a: { type: 'track', event: 'X', next: 'a' } })
    expect(validateGraph(definition, known)).toEqual([
      { path: 'nodes.a', message: 'a loop with no wait, wait-until or wait-for: a → a' },
    ])
  })

  it('names the other nodes looping with a refused loop', () => {
    const definition = journey({
      a: {
        type: 'split',
        paths: [
          { weight: 1, next: 'b' },
          { weight: 1, next: 'c' },
        ],
      },
      b: { type: 'track', event: 'B', next: 'a' },
      c: { type: 'track', event: 'C', next: 'a' },
    })
    expect(validateGraph(definition, known)).toEqual([
      {
        path: 'nodes.a',
        message: 'a loop with no wait, wait-until or wait-for: a → b → a; c loop with it too',
      },
    ])
  })

  it('names each separate loop without a wait, even one no path reaches', () => {
    const definition = journey({
      a: { type: 'track', event: 'A', next: 'a' },
      x: { type: 'track', event: 'X', next: 'y' },
      y: { type: 'track', event: 'Y', next: 'x' },
    })
    const problems = validateGraph(definition, known)
    expect(problems.filter((p) => p.message.startsWith('a loop'))).toEqual([
      { path: 'nodes.a', message: 'a loop with no wait, wait-until or wait-for: a → a' },
      { path: 'nodes.x', message: 'a loop with no wait, wait-until or wait-for: x → y → x' },
    ])
  })

  it('accepts loops through a wait, a waitUntil or a waitFor', () => {
    const definition = journey({
      a: { type: 'email', template: 'tips', next: 'b' },
      b: {
        type: 'split',
        paths: [
          { weight: 1, next: 'w1' },
          { weight: 1, next: 'w2' },
          { weight: 1, next: 'w3' },
        ],
      },
      w1: { type: 'wait', for: { days: 7 }, next: 'a' },
      w2: { type: 'waitUntil', time: '09:00', next: 'a' },
      w3: { type: 'waitFor', performed: 'X', timeout: { days: 1 }, next: 'a', onTimeout: 'b' },
    })
    expect(validateGraph(definition, known)).toEqual([])
  })

  it('accepts a graph with no way to an exit: its runs wait', () => {
    const definition = journey({
      a: { type: 'waitFor', performed: 'X', timeout: { days: 1 }, next: 'a', onTimeout: 'a' },
    })
    expect(validateGraph(definition, known)).toEqual([])
  })

  it('names missing templates, subscription groups and lists of nodes', () => {
    const definition = journey({
      a: { type: 'email', template: 'welcome', subscriptionGroup: 'deals', next: 'b' },
      b: { type: 'email', template: 'gone', next: 'c' },
      c: { type: 'list', add: 'vips', next: 'd' },
      d: { type: 'list', remove: 'old', next: 'e' },
      e: exit,
    })
    expect(validateGraph(definition, known)).toEqual([
      { path: 'nodes.a.subscriptionGroup', message: 'no subscription group deals' },
      { path: 'nodes.b.template', message: 'no template gone' },
      { path: 'nodes.c.add', message: 'no list vips' },
      { path: 'nodes.d.remove', message: 'no list old' },
    ])
  })

  it('checks lists and subscription groups only when it is told which exist', () => {
    const definition = journey(
      {
        a: { type: 'email', template: 'welcome', subscriptionGroup: 'deals', next: 'b' },
        b: { type: 'list', add: 'vips', next: 'c' },
        c: exit,
      },
      { exitWhen: { any: [{ list: 'x' }, { subscribed: 'y', value: false }] } },
    )
    const bare = { templates: known.templates, segments: known.segments }
    expect(validateGraph(definition, bare)).toEqual([])
  })

  it('names a missing entry segment and missing segments deep in branch and exit rules', () => {
    const definition = journey(
      {
        b1: {
          type: 'branch',
          cases: [
            { rule: { inSegment: 'vip' }, next: 'done' },
            {
              rule: {
                all: [{ trait: 'a', op: 'exists' }, { any: [{ not: { inSegment: 'lost' } }] }],
              },
              next: 'done',
            },
          ],
          otherwise: 'done',
        },
        done: exit,
      },
      {
        entry: { segment: 'gone', on: 'enter' },
        exitWhen: {
          any: [{ inSegment: 'churned' }, { list: 'blocked' }, { subscribed: 'sms', value: true }],
        },
      },
    )
    expect(validateGraph(definition, known)).toEqual([
      { path: 'entry.segment', message: 'no segment gone' },
      { path: 'exitWhen.any[0].inSegment', message: 'no segment churned' },
      { path: 'exitWhen.any[1].list', message: 'no list blocked' },
      { path: 'exitWhen.any[2].subscribed', message: 'no subscription group sms' },
      { path: 'nodes.b1.cases[1].rule.all[1].any[0].not.inSegment', message: 'no segment lost' },
    ])
  })

  it('names every problem at once, ordered by path', () => {
    const definition = journey(
      {
        n1: { type: 'email', template: 'nope', next: 'n2' },
        n2: { type: 'track', event: 'X', next: 'n3' },
        n3: { type: 'track', event: 'Y', next: 'n2' },
        n4: { type: 'wait', for: { days: 1 }, next: 'n9' },
      },
      { entry: { segment: 'gone', on: 'exit' } },
    )
    expect(validateGraph(definition, known)).toEqual([
      { path: 'entry.segment', message: 'no segment gone' },
      { path: 'nodes.n1.template', message: 'no template nope' },
      { path: 'nodes.n2', message: 'a loop with no wait, wait-until or wait-for: n2 → n3 → n2' },
      { path: 'nodes.n4', message: 'unreachable: no path from start n1 leads here' },
      { path: 'nodes.n4.next', message: 'no node n9' },
    ])
  })

  it('leaves reachability to the start problem when start names no node', () => {
    const definition = journey(
      { a: { type: 'track', event: 'X', next: 'b' }, b: exit },
      {
        start: 'nope',
      },
    )
    expect(validateGraph(definition, known)).toEqual([{ path: 'start', message: 'no node nope' }])
  })
})
