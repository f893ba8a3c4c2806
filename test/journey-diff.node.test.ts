import { describe, expect, it } from 'vitest'
import { diffJourneys, fieldChanges, isEmpty } from '../console/src/models/journey-diff.ts'
import { publishedAt, rollbackTarget, type History } from '../console/src/models/journey-history.ts'
import { JOURNEY_TEMPLATES } from '../domain/journeys/templates.ts'
import type { JourneyDefinition } from '../domain/journeys/definition.ts'

const cart = JOURNEY_TEMPLATES['abandoned-cart'].definition as JourneyDefinition

/** The abandoned cart with its first wait longer, the incentive gone and an SMS-like webhook. */
function edited(): JourneyDefinition {
  const copy = structuredClone(cart)
  copy.nodes['wait-for-order'] = {
    type: 'waitFor',
    performed: 'Order Completed',
    timeout: { hours: 2 },
    next: 'done',
    onTimeout: 'reminder',
  }
  delete copy.nodes.incentive
  copy.nodes['wait-for-order-again'] = {
    type: 'waitFor',
    performed: 'Order Completed',
    timeout: { days: 1 },
    next: 'done',
    onTimeout: 'notify',
  }
  copy.nodes.notify = { type: 'webhook', url: 'https://example.com/hook', next: 'last-chance' }
  copy.entry = { event: 'Product Added', where: [{ property: 'price', op: 'gt', value: 10 }] }
  copy.goal = { performed: 'Order Completed', within: { days: 5 } }
  return copy
}

describe('diffJourneys', () => {
  it('names the nodes added, removed and changed, each change field by field', () => {
    const diff = diffJourneys(cart, edited())
    expect(diff.added.map((n) => n.id)).toEqual(['notify'])
    expect(diff.removed.map((n) => n.id)).toEqual(['incentive'])
    expect(diff.changed).toEqual([
      {
        id: 'wait-for-order',
        fields: [{ path: 'timeout.hours', before: 1, after: 2 }],
      },
      {
        id: 'wait-for-order-again',
        fields: [{ path: 'onTimeout', before: 'incentive', after: 'notify' }],
      },
    ])
  })

  it("lists the journey's settings that changed: entry's where, the goal's window", () => {
    const { settings } = diffJourneys(cart, edited())
    expect(settings).toEqual([
      {
        path: 'entry.where',
        before: undefined,
        after: [{ property: 'price', op: 'gt', value: 10 }],
      },
      { path: 'goal.within.days', before: 3, after: 5 },
    ])
  })

  it('says when a node changed type, and finds nothing between a version and itself', () => {
    const other = structuredClone(cart)
    other.nodes.reminder = { type: 'wait', for: { hours: 1 }, next: 'wait-for-order-again' }
    const [change] = diffJourneys(cart, other).changed
    expect(change?.type).toEqual({ before: 'email', after: 'wait' })
    expect(change?.fields.map((f) => f.path)).toEqual(['type', 'template', 'for'])
    expect(isEmpty(diffJourneys(cart, structuredClone(cart)))).toBe(true)
  })

  it('walks arrays by index and reports an entry replaced whole by kind', () => {
    expect(
      fieldChanges({ cases: [{ next: 'a' }] }, { cases: [{ next: 'a' }, { next: 'b' }] }),
    ).toEqual([{ path: 'cases[1]', before: undefined, after: { next: 'b' } }])
    expect(fieldChanges({ event: 'X' }, { api: true }, 'entry')).toEqual([
      { path: 'entry.event', before: 'X', after: undefined },
      { path: 'entry.api', before: undefined, after: true },
    ])
    expect(fieldChanges('never', { after: { days: 7 } }, 'reentry')).toEqual([
      { path: 'reentry', before: 'never', after: { after: { days: 7 } } },
    ])
  })
})

type Entry = History['history'][number]

function journey(history: Entry[]): History {
  return { history }
}

describe('the publish history', () => {
  const entry = (seq: number, action: Entry['action'], live: number[][]) => ({
    seq,
    action,
    at: `2026-01-0${seq}T00:00:00.000Z`,
    live: live.map(([version, weight]) => ({ version: version!, weight: weight! })),
  })

  it('names the live set a rollback returns to, walking further back after a rollback', () => {
    const history = [
      entry(1, 'publish', [[1, 1]]),
      entry(2, 'publish', [[2, 1]]),
      entry(3, 'pause', [[2, 1]]),
      entry(4, 'publish', [
        [2, 50],
        [3, 50],
      ]),
    ]
    expect(rollbackTarget(journey(history))).toEqual([{ version: 2, weight: 1 }])
    const after = [...history, entry(5, 'rollback', [[2, 1]])]
    expect(rollbackTarget(journey(after))).toEqual([{ version: 1, weight: 1 }])
    expect(rollbackTarget(journey(history.slice(0, 1)))).toBeUndefined()
  })

  it('says when each version last joined the live set', () => {
    const at = publishedAt(
      journey([
        entry(1, 'publish', [[1, 1]]),
        entry(2, 'publish', [[2, 1]]),
        entry(3, 'rollback', [[1, 1]]),
        entry(4, 'pause', [[1, 1]]),
      ]),
    )
    expect([...at]).toEqual([
      [1, '2026-01-03T00:00:00.000Z'],
      [2, '2026-01-02T00:00:00.000Z'],
    ])
  })
})
