/**
 * What Cairn asks a text model and how it reads the answers (edge/predictions/ai.ts sends them):
 * the churn explanation and subject-line suggestions. Pure; the rules-based explanation here is
 * the answer whenever no model is bound or the model fails.
 *
 * The churn prompt carries numbers only, never the contact's key, email or traits: a privacy
 * choice, so a hosted model learns nothing that names a person, whatever it logs.
 */

/** A contact's churn, in the numbers its explanation rests on. Nothing here names the person. */
export interface ChurnFacts {
  churnRisk: number
  /** 0–100. */
  engagement: number
  /** BG/NBD P(alive); null before a fit or a purchase. */
  pAlive: number | null
  /** Chance of dropping out within 90 days; null before a fit or a purchase. */
  lapseRisk: number | null
  /** Days with a purchase (a day's purchases count once, as the model counts them). */
  purchaseDays: number
  daysSinceLastPurchase: number | null
  daysSinceLastSeen: number | null
  expectedPurchases90: number | null
}

export interface Prompt {
  system: string
  prompt: string
}

export const EXPLANATION_CHARS = 600
export const SUBJECT_CHARS = 150
export const SUBJECT_SUGGESTIONS = 5

const percent = (share: number) => `${Math.round(share * 100)}%`
const level = (share: number) => (share < 0.3 ? 'low' : share < 0.6 ? 'moderate' : 'high')
const days = (n: number) => (n === 1 ? '1 day' : `${n} days`)

/** The facts as the lines both the rules and the prompt state. */
function factLines(facts: ChurnFacts): string[] {
  const lines = [
    `churn risk ${percent(facts.churnRisk)} (${level(facts.churnRisk)})`,
    `engagement ${Math.round(facts.engagement)} of 100 (${level(facts.engagement / 100)})`,
  ]
  if (facts.daysSinceLastSeen !== null) {
    lines.push(`last active ${days(facts.daysSinceLastSeen)} ago`)
  }
  if (facts.purchaseDays === 0) {
    lines.push('no purchases yet, so the risk rests on activity alone')
  } else {
    const last =
      facts.daysSinceLastPurchase === null
        ? ''
        : `, the last ${days(facts.daysSinceLastPurchase)} ago`
    lines.push(`purchases on ${days(facts.purchaseDays)}${last}`)
  }
  if (facts.pAlive !== null && facts.purchaseDays > 1) {
    lines.push(`the purchase model's chance they are still a customer: ${percent(facts.pAlive)}`)
  }
  if (facts.lapseRisk !== null) {
    lines.push(`chance they stop buying for good within 90 days: ${percent(facts.lapseRisk)}`)
  }
  if (facts.expectedPurchases90 !== null) {
    lines.push(`purchases expected in the next 90 days: ${facts.expectedPurchases90.toFixed(1)}`)
  }
  return lines
}

/** A plain sentence from the numbers; the same facts give the same words. */
export function churnExplanationByRules(facts: ChurnFacts): string {
  const [risk, ...rest] = factLines(facts)
  const upper = (text: string) => text.charAt(0).toUpperCase() + text.slice(1)
  return `${upper(risk!)}. ${rest.map(upper).join('. ')}.`
}

export function churnExplanationPrompt(facts: ChurnFacts): Prompt {
  return {
    system:
      'You explain customer churn predictions to marketers in plain language. Answer in two or ' +
      'three short sentences, no lists, no headings. Use only the numbers given; do not invent ' +
      'names or facts. Say which numbers drive the risk and one thing a marketer could do.',
    prompt: `A customer's numbers:\n${factLines(facts)
      .map((line) => `- ${line}`)
      .join('\n')}\nExplain their churn risk.`,
  }
}

/** The model's explanation on one line, capped; null when it said nothing usable. */
export function parseExplanation(answer: string): string | null {
  const text = answer.replace(/\s+/g, ' ').trim()
  if (text.length === 0) return null
  if (text.length <= EXPLANATION_CHARS) return text
  return `${text.slice(0, EXPLANATION_CHARS - 1).trimEnd()}…`
}

export function subjectSuggestionPrompt(subject: string): Prompt {
  return {
    system:
      'You write email subject lines. Answer with exactly five alternative subject lines, one ' +
      'per line, nothing else: no numbering, no quotes, no commentary. Keep each under 70 ' +
      'characters. Keep any {{ ... }} placeholders exactly as written.',
    prompt: `Current subject line: ${subject}`,
  }
}

/**
 * Subject lines from the model's answer: one per line, numbering, bullets and quotes taken
 * off, preambles ("Here are…:") dropped, never the current subject, each once (ignoring case),
 * capped at SUBJECT_CHARS, at most SUBJECT_SUGGESTIONS. Splitting on lines means no suggestion
 * holds a CR or LF, which would break the message's Subject header.
 */
export function parseSubjectSuggestions(answer: string, current: string): string[] {
  const seen = new Set([current.trim().toLowerCase()])
  const suggestions: string[] = []
  for (const raw of answer.split(/[\r\n]+/)) {
    const line = raw
      .replace(/^\s*(?:[-*•]|\d+[.):]|\(\d+\))\s*/, '')
      .replace(/^(?:subject(?: line)?\s*\d*\s*:\s*)/i, '')
      .replace(/^["'“‘`]+|["'”’`]+$/g, '')
      .replace(/\s+/g, ' ')
      .trim()
    if (line.length === 0 || line.endsWith(':')) continue
    const subject = line.length > SUBJECT_CHARS ? line.slice(0, SUBJECT_CHARS).trimEnd() : line
    const key = subject.toLowerCase()
    if (seen.has(key)) continue
    seen.add(key)
    suggestions.push(subject)
    if (suggestions.length === SUBJECT_SUGGESTIONS) break
  }
  return suggestions
}
