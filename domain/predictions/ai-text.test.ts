import { describe, expect, it } from 'vitest'
import {
  churnExplanationByRules,
  churnExplanationPrompt,
  parseExplanation,
  parseSubjectSuggestions,
  subjectSuggestionPrompt,
  type ChurnFacts,
} from './ai-text'

const lapsed: ChurnFacts = {
  churnRisk: 0.72,
  engagement: 12.4,
  pAlive: 0.28,
  lapseRisk: 0.04,
  purchaseDays: 4,
  daysSinceLastPurchase: 45,
  daysSinceLastSeen: 30,
  expectedPurchases90: 0.31,
}

describe('the churn explanation', () => {
  it('says the numbers in words by rules', () => {
    expect(churnExplanationByRules(lapsed)).toBe(
      'Churn risk 72% (high). Engagement 12 of 100 (low). Last active 30 days ago. ' +
        'Purchases on 4 days, the last 45 days ago. ' +
        "The purchase model's chance they are still a customer: 28%. " +
        'Chance they stop buying for good within 90 days: 4%. ' +
        'Purchases expected in the next 90 days: 0.3.',
    )
  })

  it('rests on activity alone for a contact who never bought, and leaves out what is unknown', () => {
    const browser: ChurnFacts = {
      churnRisk: 0.2,
      engagement: 80,
      pAlive: null,
      lapseRisk: null,
      purchaseDays: 0,
      daysSinceLastPurchase: null,
      daysSinceLastSeen: null,
      expectedPurchases90: null,
    }
    expect(churnExplanationByRules(browser)).toBe(
      'Churn risk 20% (low). Engagement 80 of 100 (high). ' +
        'No purchases yet, so the risk rests on activity alone.',
    )
    // One purchase day: P(alive) is 1 by construction, so it is not offered as evidence.
    expect(churnExplanationByRules({ ...lapsed, purchaseDays: 1, pAlive: 1 })).not.toContain(
      'still a customer',
    )
  })

  it('asks the model with the numbers only', () => {
    const { system, prompt } = churnExplanationPrompt(lapsed)
    expect(system).toContain('Use only the numbers given')
    expect(prompt).toContain('- churn risk 72% (high)')
    expect(prompt).toContain('- purchases on 4 days, the last 45 days ago')
  })

  it('reads the answer onto one capped line, and nothing from an empty one', () => {
    expect(parseExplanation('  Risk is high.\n\nThey stopped buying.  ')).toBe(
      'Risk is high. They stopped buying.',
    )
    expect(parseExplanation(' \n ')).toBeNull()
    const long = parseExplanation('word '.repeat(500))!
    expect(long.length).toBe(600)
    expect(long.endsWith('…')).toBe(true)
  })
})

describe('subject suggestions', () => {
  it('asks for alternatives to the subject, keeping its placeholders', () => {
    const { system, prompt } = subjectSuggestionPrompt('Your {{ plan }} renews soon')
    expect(system).toContain('{{ ... }}')
    expect(prompt).toBe('Current subject line: Your {{ plan }} renews soon')
  })

  it('strips numbering, bullets, quotes and preambles, drops repeats and the current subject', () => {
    const answer = [
      'Here are five subject lines:',
      '1. "Your plan renews on Friday"',
      '2) Don’t lose your {{ plan }}',
      '- your plan renews on friday',
      '* Last chance: keep your perks',
      'Subject line 5: Renew today',
      'Your plan renews soon',
      '',
      '(6) Time is running out',
      '7. One more than asked',
    ].join('\r\n')
    expect(parseSubjectSuggestions(answer, 'Your plan renews soon')).toEqual([
      'Your plan renews on Friday',
      'Don’t lose your {{ plan }}',
      'Last chance: keep your perks',
      'Renew today',
      'Time is running out',
    ])
  })

  it('caps a long line and never answers a CR or LF', () => {
    const [first, second] = parseSubjectSuggestions(`${'a'.repeat(400)}\rB\nC`, 'x')
    expect(first).toBe('a'.repeat(150))
    expect(second).toBe('B')
    expect(parseSubjectSuggestions('', 'x')).toEqual([])
  })
})
