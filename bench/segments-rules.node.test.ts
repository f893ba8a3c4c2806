import { describe, expect, it } from 'vitest'
import { RuleSchema } from '../contracts/segment'
import { LIVE_SEGMENTS, PREVIEW_RULES, withIds } from './segments-rules.ts'
import { SEGMENT_TARGETS } from './segments-targets.ts'

describe('the rules the segments section measures', () => {
  it('creates as many live segments as the target names, each slug once', () => {
    expect(LIVE_SEGMENTS).toHaveLength(SEGMENT_TARGETS.liveSegments)
    expect(new Set(LIVE_SEGMENTS.map((s) => s.slug)).size).toBe(LIVE_SEGMENTS.length)
  })

  it('gives the API only rules it accepts, references resolved in creation order', () => {
    const ids = new Map<string, string>()
    for (const segment of LIVE_SEGMENTS) {
      const rule = withIds(segment.rule, ids)
      expect(RuleSchema.safeParse(rule).success, segment.slug).toBe(true)
      ids.set(segment.slug, `seg_${segment.slug}`)
    }
    for (const { key, rule } of PREVIEW_RULES) {
      expect(RuleSchema.safeParse(rule).success, key).toBe(true)
    }
  })

  it('swaps slugs for ids at any depth, and refuses a slug not created yet', () => {
    const ids = new Map([['pro', 'seg_1']])
    expect(withIds({ any: [{ not: { inSegment: 'pro' } }, { list: 'l' }] }, ids)).toEqual({
      any: [{ not: { inSegment: 'seg_1' } }, { list: 'l' }],
    })
    expect(() => withIds({ inSegment: 'vip' }, ids)).toThrow('no live segment "vip"')
  })
})
