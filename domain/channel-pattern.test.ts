import { describe, expect, it } from 'vitest'
import { compilePattern, MAX_MATCHED_CHARS, MAX_PATTERN_CHARS } from './channel-pattern'
import { DEFAULT_CHANNEL_RULES } from './channel'

function matcher(source: string) {
  const compiled = compilePattern(source)
  if (!compiled.ok) throw new Error(`${source}: ${compiled.reason}`)
  return compiled.pattern
}

function refusal(source: string) {
  const compiled = compilePattern(source)
  return compiled.ok ? null : compiled.reason
}

const VALUES = [
  '',
  'cpc',
  'CPC',
  'ppc',
  'paid-social',
  'Paid Search',
  'retargeting',
  'email',
  'e-mail',
  'e mail',
  'newsletter',
  'display',
  'banner',
  'organic',
  'affiliate_network',
  'summer-shop-2025',
  'social network',
  'sm',
  '  cpm  ',
  'a\nb',
  'x'.repeat(60),
  'abc123_',
  'a.b',
  'a{b',
]

describe('channel patterns', () => {
  it('agrees with JavaScript regular expressions on every default rule and more', () => {
    const patterns = [
      ...DEFAULT_CHANNEL_RULES.flatMap((r) => [r.medium, r.source, r.campaign]),
      'e-?mail',
      '[a-z]+\\d*_?',
      '[^0-9]*',
      '\\w+\\d{3}_',
      'a\\.b',
      'a\\{b',
      '(paid|cp[cm])?',
      '.{2,4}',
      '^cpc$',
      'x{60}',
      '(?:sum|win)mer-.*-\\d{4}',
      '[\\s\\S]+',
      'A.B',
      '(a|)b?',
    ].filter((p): p is string => p !== undefined)
    for (const pattern of patterns) {
      const ours = matcher(pattern)
      const theirs = new RegExp(`^(?:${pattern})$`, 'i')
      for (const value of VALUES) {
        expect(ours.test(value), `${pattern} on ${JSON.stringify(value)}`).toBe(
          theirs.test(value.trim()),
        )
      }
    }
  })

  it('runs patterns that make a backtracking engine hang in linear time', () => {
    const attack = 'a'.repeat(MAX_MATCHED_CHARS - 1) + '!'
    for (const pattern of [
      '(a+)+',
      '(a|a)*',
      '(.*)*x',
      '(a*)*b',
      '(.*a){20}',
      '(a|aa)+$',
      '.*.*.*.*.*.*=',
    ]) {
      expect(matcher(pattern).test(attack), pattern).toBe(false)
    }
    expect(matcher('(a+)+!').test(attack)).toBe(true)
  })

  it('matches no value longer than the limit', () => {
    expect(matcher('a*').test('a'.repeat(MAX_MATCHED_CHARS))).toBe(true)
    expect(matcher('a*').test('a'.repeat(MAX_MATCHED_CHARS + 1))).toBe(false)
  })

  it('refuses what cannot run in linear time or is malformed, saying why', () => {
    expect(refusal('(a)\\1')).toMatch(/backreferences/)
    expect(refusal('(?<n>a)\\k<n>')).toMatch(/groups/)
    expect(refusal('(?=a)a')).toMatch(/lookarounds/)
    expect(refusal('(?<!a)b')).toMatch(/lookarounds/)
    expect(refusal('\\bcpc')).toMatch(/word boundaries/)
    expect(refusal('(cpc')).toMatch(/unclosed "\("/)
    expect(refusal('cpc)')).toMatch(/unmatched "\)"/)
    expect(refusal('[a-')).toMatch(/unclosed "\["/)
    expect(refusal('[z-a]')).toMatch(/out of order/)
    expect(refusal('*a')).toMatch(/nothing to repeat/)
    expect(refusal('a**')).toMatch(/nothing to repeat/)
    expect(refusal('a{1000}')).toMatch(/repeat count over/)
    expect(refusal('(.{100}){100}')).toMatch(/expands to more than/)
    expect(refusal('\\q')).toMatch(/unknown escape/)
    expect(refusal('x'.repeat(MAX_PATTERN_CHARS + 1))).toMatch(/limit is 200/)
    expect(refusal('x'.repeat(MAX_PATTERN_CHARS))).toBeNull()
  })
})
