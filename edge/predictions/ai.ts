import {
  churnExplanationByRules,
  churnExplanationPrompt,
  parseExplanation,
  parseSubjectSuggestions,
  subjectSuggestionPrompt,
  type ChurnFacts,
} from '../../domain/predictions/ai-text'
import type { Env } from '../env'

/**
 * Workers AI, optional. The binding is not declared in wrangler.toml because local development
 * runs offline and `wrangler dev` would ask for an account for it; to enable it on a
 * deployment add
 *
 *   [ai]
 *   binding = "AI"
 *
 * to wrangler.toml (or the deployment's own config) and deploy. Unbound, explanations come from
 * the rules and subject suggestions answer `ai_unavailable`.
 */
export interface TextModel {
  complete(prompt: string, system?: string): Promise<string>
}

/** A small instruct model: short answers, cheap, fast enough inside a request. */
export const TEXT_MODEL = '@cf/meta/llama-3.1-8b-instruct'
const MAX_TOKENS = 300

export function textModel(env: Pick<Env, 'AI'>): TextModel | null {
  const ai = env.AI
  if (!ai) return null
  return {
    async complete(prompt, system) {
      const messages = [
        ...(system ? [{ role: 'system', content: system }] : []),
        { role: 'user', content: prompt },
      ]
      const answer = (await ai.run(TEXT_MODEL, { messages, max_tokens: MAX_TOKENS })) as {
        response?: unknown
      }
      return typeof answer.response === 'string' ? answer.response : ''
    },
  }
}

export interface Explanation {
  text: string
  source: 'ai' | 'rules'
}

/**
 * The contact's churn risk in words: the model's, or the rules' when there is no model or it
 * failed or said nothing (an explanation is always available).
 */
export async function explainChurn(
  model: TextModel | null,
  facts: ChurnFacts,
): Promise<Explanation> {
  if (model) {
    const { prompt, system } = churnExplanationPrompt(facts)
    try {
      const text = parseExplanation(await model.complete(prompt, system))
      if (text) return { text, source: 'ai' }
    } catch (error) {
      console.warn('churn explanation: the model failed, answering by rules', error)
    }
  }
  return { text: churnExplanationByRules(facts), source: 'rules' }
}

/** Up to five alternatives to `subject`; the model's failure is the caller's to report. */
export async function suggestSubjects(model: TextModel, subject: string): Promise<string[]> {
  const { prompt, system } = subjectSuggestionPrompt(subject)
  return parseSubjectSuggestions(await model.complete(prompt, system), subject)
}
