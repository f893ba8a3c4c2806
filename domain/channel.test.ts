import { describe, expect, it } from 'vitest'
import { classifyChannel, DEFAULT_CHANNEL_RULES, type ChannelRule } from './channel'
import { MAX_MATCHED_CHARS } from './channel-pattern'

describe('classifyChannel', () => {
  it('classifies by the default rules', () => {
    expect(classifyChannel({ utmSource: 'google', utmMedium: 'cpc' })).toBe('paid_search')
    expect(classifyChannel({ utmSource: 'Newsletter', utmMedium: 'E-Mail' })).toBe('email')
    expect(classifyChannel({ referrerDomain: 'news.ycombinator.com' })).toBe('organic_social')
    expect(classifyChannel({ utmMedium: 'carrier-pigeon' })).toBe('unassigned')
    expect(classifyChannel({})).toBe('direct')
  })

  it("runs an admin's pattern on a visitor's value in linear time, however it is written", () => {
    // Each of these takes a backtracking engine about 2^n steps on n characters and no match.
    const rules: ChannelRule[] = [
      { channel: 'nested', medium: '(a+)+' },
      { channel: 'overlapping', source: '(a|a)*' },
      { channel: 'stars', campaign: '(.*)*x' },
      ...DEFAULT_CHANNEL_RULES,
    ]
    const attack = 'a'.repeat(MAX_MATCHED_CHARS - 1) + '!'
    expect(
      classifyChannel({ utmMedium: attack, utmSource: attack, utmCampaign: attack }, rules),
    ).toBe('unassigned')
    expect(classifyChannel({ utmMedium: 'aaaa' }, rules)).toBe('nested')
    expect(classifyChannel({ utmSource: 'aaaa', utmMedium: 'b' }, rules)).toBe('overlapping')
  })

  it('matches no pattern against a value past the length limit', () => {
    const rules: ChannelRule[] = [{ channel: 'any', medium: '.*' }]
    expect(classifyChannel({ utmMedium: 'm'.repeat(MAX_MATCHED_CHARS) }, rules)).toBe('any')
    expect(classifyChannel({ utmMedium: 'm'.repeat(MAX_MATCHED_CHARS + 1) }, rules)).toBe(
      'unassigned',
    )
  })

  it('lets a stored pattern it cannot run match nothing instead of failing ingestion', () => {
    const rules: ChannelRule[] = [
      { channel: 'old', medium: '(?=x)x' },
      { channel: 'next', medium: 'x' },
    ]
    expect(classifyChannel({ utmMedium: 'x' }, rules)).toBe('next')
  })
})
