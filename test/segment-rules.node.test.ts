import { describe, expect, it } from 'vitest'
import {
  addChild,
  changeKind,
  convert,
  fromRule,
  group,
  issuesOf,
  leaf,
  move,
  parseRule,
  parseValue,
  pathsOf,
  placeIssues,
  remove,
  summarize,
  toRule,
  unwrap,
  updateLeaf,
  withDurationPart,
  withOp,
  withTraitOp,
  wrap,
  type Node,
  type Rule,
} from '../console/src/models/segment-rules'

/** The console's rule editing (console/src/models/segment-rules.ts): pure, so tested in Node. */

const pro: Rule = { trait: 'plan', op: 'eq', value: 'pro' }
const ordered: Rule = { performed: 'Order Completed', within: { days: 7 } }
const consented: Rule = { consent: 'marketing', granted: true }
const nested: Rule = { all: [pro, { any: [ordered, { not: consented }] }] }

function idAt(tree: Node, path: string): string {
  const hit = [...pathsOf(tree).entries()].find(([, p]) => p === path)
  if (!hit) throw new Error(`no node at ${path}`)
  return hit[0]
}

describe('the rule tree', () => {
  it('round-trips a nested rule and names each node by its place in the request', () => {
    const tree = fromRule(nested)
    expect(toRule(tree)).toEqual(nested)
    expect([...pathsOf(tree).values()]).toEqual([
      'rule',
      'rule.all[0]',
      'rule.all[1]',
      'rule.all[1].any[0]',
      'rule.all[1].any[1]',
      'rule.all[1].any[1].not',
    ])
  })

  it('reads a rule from the URL, or nothing from text that is not one', () => {
    expect(toRule(parseRule(JSON.stringify(nested))!)).toEqual(nested)
    for (const text of [null, '', 'x', '[1]', '"pro"', 'null', '{"all":5}']) {
      expect(parseRule(text)).toBeUndefined()
    }
  })

  it('builds the nested rule step by step from an empty group', () => {
    let tree = group('all')
    tree = addChild(tree, tree.id, leaf(pro))
    const any = group('any')
    tree = addChild(tree, tree.id, any)
    tree = addChild(tree, any.id, leaf(ordered))
    const consent = leaf(consented)
    tree = addChild(tree, any.id, consent)
    tree = wrap(tree, consent.id, 'not')
    expect(toRule(tree)).toEqual(nested)
  })

  it('leaves the tree it was given untouched', () => {
    const tree = fromRule(nested)
    const before = JSON.stringify(tree)
    remove(tree, idAt(tree, 'rule.all[0]'))
    changeKind(tree, idAt(tree, 'rule.all[1]'), 'all')
    expect(JSON.stringify(tree)).toBe(before)
  })

  it('removes a node; a not left empty goes too; the root leaves an empty group', () => {
    const tree = fromRule(nested)
    expect(toRule(remove(tree, idAt(tree, 'rule.all[0]')))).toEqual({ all: [nested.all[1]] })
    expect(toRule(remove(tree, idAt(tree, 'rule.all[1].any[1].not')))).toEqual({
      all: [pro, { any: [ordered] }],
    })
    expect(toRule(remove(tree, tree.id))).toEqual({ all: [] })
  })

  it('wraps and unwraps', () => {
    const tree = fromRule({ all: [pro] })
    const wrapped = wrap(tree, idAt(tree, 'rule.all[0]'), 'any')
    expect(toRule(wrapped)).toEqual({ all: [{ any: [pro] }] })
    expect(toRule(unwrap(wrapped, idAt(wrapped, 'rule.all[0]')))).toEqual({ all: [pro] })
    const negated = fromRule({ not: pro })
    expect(toRule(unwrap(negated, negated.id))).toEqual(pro)
  })

  it('moves a node within its group', () => {
    const tree = fromRule({ any: [pro, ordered, consented] })
    expect(toRule(move(tree, idAt(tree, 'rule.any[2]'), -1))).toEqual({
      any: [pro, consented, ordered],
    })
    expect(toRule(move(tree, idAt(tree, 'rule.any[0]'), -1))).toEqual(toRule(tree))
  })

  it('changes kind: all/any keep children, a group asked of a leaf wraps it, leaves carry names', () => {
    const tree = fromRule(nested)
    expect(toRule(changeKind(tree, idAt(tree, 'rule.all[1]'), 'all'))).toEqual({
      all: [pro, { all: [ordered, { not: consented }] }],
    })
    expect(toRule(changeKind(tree, idAt(tree, 'rule.all[0]'), 'not'))).toEqual({
      all: [{ not: pro }, nested.all[1]],
    })
    const ordered0 = idAt(tree, 'rule.all[1].any[0]')
    expect(toRule(find0(changeKind(tree, ordered0, 'lastPerformed')))).toEqual({
      lastPerformed: 'Order Completed',
      has: [{ property: '', op: 'eq', value: '' }],
    })
    expect(toRule(find0(changeKind(tree, idAt(tree, 'rule.all[0]'), 'account'), 0))).toEqual({
      account: { trait: 'plan', op: 'eq', value: '' },
    })
    expect(toRule(find0(changeKind(tree, ordered0, 'consent')))).toEqual(consented)
  })

  it('updates a leaf in place', () => {
    const tree = fromRule(nested)
    const next = updateLeaf(tree, idAt(tree, 'rule.all[0]'), { trait: 'plan', op: 'exists' })
    expect(toRule(next)).toEqual({ all: [{ trait: 'plan', op: 'exists' }, nested.all[1]] })
  })
})

/** The first leaf of `all[1].any` (or of `all` with `at = 0`). */
function find0(tree: Node, at?: 0): Node {
  if (tree.kind !== 'all') throw new Error('not all')
  if (at === 0) return tree.children[0]!
  const any = tree.children[1]!
  if (any.kind !== 'any') throw new Error('not any')
  return any.children[0]!
}

describe('values', () => {
  it('follow the op: a list for in, nothing for exists, one value otherwise', () => {
    expect(withOp({ op: 'eq', value: 'pro' }, 'in')).toEqual({ op: 'in', value: ['pro'] })
    expect(withOp({ op: 'in', value: ['a', 'b'] }, 'neq')).toEqual({ op: 'neq', value: 'a' })
    expect(withOp({ op: 'eq', value: 3 }, 'exists')).toEqual({ op: 'exists' })
    expect(withOp({ op: 'exists' }, 'gt')).toEqual({ op: 'gt', value: '' })
    expect(withOp({ op: 'exists' }, 'in')).toEqual({ op: 'in', value: [] })
  })

  it('switch a trait between value ops and date ops', () => {
    const within = withTraitOp({ trait: 'signedUpAt', op: 'eq', value: 'x' }, 'within')
    expect(within).toEqual({ trait: 'signedUpAt', op: 'within', duration: { days: 7 } })
    expect(withTraitOp(within as never, 'before')).toEqual({
      trait: 'signedUpAt',
      op: 'before',
      duration: { days: 7 },
    })
    expect(withTraitOp(within as never, 'gte')).toEqual({
      trait: 'signedUpAt',
      op: 'gte',
      value: '',
    })
  })

  it('are typed: numbers as numbers, text as text, booleans from true/false', () => {
    expect(parseValue('10', 'number')).toBe(10)
    expect(parseValue('10', 'string')).toBe('10')
    expect(parseValue('ten', 'number')).toBe('ten')
    expect(parseValue(' ', 'number')).toBe(' ')
    expect(parseValue('true', 'boolean')).toBe(true)
    expect(convert(10, 'string')).toBe('10')
    expect(convert('2.5', 'number')).toBe(2.5)
    expect(convert('true', 'boolean')).toBe(true)
  })

  it('edit durations part by part', () => {
    expect(withDurationPart({ days: 7 }, 'hours', 3)).toEqual({ days: 7, hours: 3 })
    expect(withDurationPart({ days: 7, hours: 3 }, 'days', null)).toEqual({ hours: 3 })
  })

  it('summarize a rule in one line', () => {
    expect(summarize(nested)).toBe(
      '(plan eq "pro" and (performed Order Completed within 7 days or not consent marketing granted))',
    )
  })
})

describe('API errors', () => {
  it('are placed at the deepest node their path starts, with the field within it', () => {
    const tree = fromRule({ all: [pro, { any: [ordered, { performed: '' }] }] })
    const details = {
      issues: [
        { path: 'rule.all[1].any[1].performed', message: 'Too small' },
        { path: 'rule.all[0].value', message: 'required' },
        { path: 'rule.all[1]', message: 'not a rule' },
        { path: 'name', message: 'required' },
        { path: 'rule.all[10]', message: 'no such node' },
      ],
    }
    const placed = placeIssues(tree, issuesOf(details))
    expect(placed.get(idAt(tree, 'rule.all[1].any[1]'))).toEqual([
      { field: 'performed', message: 'Too small' },
    ])
    expect(placed.get(idAt(tree, 'rule.all[0]'))).toEqual([{ field: 'value', message: 'required' }])
    expect(placed.get(idAt(tree, 'rule.all[1]'))).toEqual([{ field: '', message: 'not a rule' }])
    // rule.all[10] is not rule.all[1]: it lands on the root.
    expect(placed.get(tree.id)).toEqual([{ field: 'all[10]', message: 'no such node' }])
    expect(placed.get('')).toEqual([{ field: 'name', message: 'required' }])
    expect(issuesOf(undefined)).toEqual([])
    expect(issuesOf({ issues: [{ path: 1 }] })).toEqual([])
  })
})
