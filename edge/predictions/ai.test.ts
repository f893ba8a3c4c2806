import { describe, expect, it } from 'vitest'
import { churnExplanationPrompt, type ChurnFacts } from '../../domain/predictions/ai-text'
import { explainChurn, suggestSubjects, TEXT_MODEL, textModel, type TextModel } from './ai'

const facts: ChurnFacts = {
  churnRisk: 0.8,
  engagement: 9,
  pAlive: 0.2,
  lapseRisk: 0.01,
  purchaseDays: 3,
  daysSinceLastPurchase: 60,
  daysSinceLastSeen: 40,
  expectedPurchases90: 0.1,
}

/** A model that answers `answer` (or throws it) and keeps what it was asked. */
function fakeModel(answer: string | Error) {
  const asked: { prompt: string; system?: string }[] = []
  const model: TextModel = {
    async complete(prompt, system) {
      asked.push({ prompt, system })
      if (answer instanceof Error) throw answer
      return answer
    },
  }
  return { model, asked }
}

describe('the Workers AI binding', () => {
  it('is no model when unbound', () => {
    expect(textModel({})).toBeNull()
  })

  it('runs the instruct model with the system and user messages and answers its response', async () => {
    const runs: unknown[][] = []
    const AI = {
      run: async (...args: unknown[]) => {
        runs.push(args)
        return { response: 'An answer' }
      },
    } as unknown as Ai
    const model = textModel({ AI })!
    expect(await model.complete('The question', 'The rules')).toBe('An answer')
    expect(runs).toEqual([
      [
        TEXT_MODEL,
        {
          messages: [
            { role: 'system', content: 'The rules' },
            { role: 'user', content: 'The question' },
          ],
          max_tokens: 300,
        },
      ],
    ])
    expect(TEXT_MODEL).toBe('@cf/meta/llama-3.1-8b-instruct')
  })
})

describe('explainChurn', () => {
  it('answers the model’s words, asked with the numbers only', async () => {
    const { model, asked } = fakeModel('  They have not bought in two months.\nSend an offer. ')
    expect(await explainChurn(model, facts)).toEqual({
      text: 'They have not bought in two months. Send an offer.',
      source: 'ai',
    })
    expect(asked).toEqual(
      [churnExplanationPrompt(facts)].map(({ prompt, system }) => ({ prompt, system })),
    )
  })

  it('answers by rules without a model, when the model fails, or when it says nothing', async () => {
    const rules = await explainChurn(null, facts)
    expect(rules.source).toBe('rules')
    expect(rules.text).toMatch(/^Churn risk 80% \(high\)\./)
    expect(await explainChurn(fakeModel(new Error('overloaded')).model, facts)).toEqual(rules)
    expect(await explainChurn(fakeModel(' \n').model, facts)).toEqual(rules)
  })
})

describe('suggestSubjects', () => {
  it('asks about the subject and answers the cleaned lines', async () => {
    const { model, asked } = fakeModel(
      '1. Come back for 10% off\n2. Come back for 10% off\n3. We miss you',
    )
    expect(await suggestSubjects(model, 'We miss you')).toEqual(['Come back for 10% off'])
    expect(asked[0]!.prompt).toBe('Current subject line: We miss you')
  })

  it('lets the model’s failure through to the route', async () => {
    await expect(suggestSubjects(fakeModel(new Error('down')).model, 'x')).rejects.toThrow('down')
  })
})
