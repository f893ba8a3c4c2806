/**
 * One line per figure, for readers who are not statisticians: what each prediction and each
 * fitted parameter says. Shared by the Predictions screen and the contact's Predictions tab.
 */
export const MEANING = {
  churnRisk:
    'Chance the contact has drifted away: 1 − P(alive) after three repeat purchases, fading engagement before that.',
  lapseRisk:
    'Chance the customer stops buying for good within the next 90 days: the ones to act on before they churn.',
  pAlive:
    'Probability the contact is still a customer, judged from how often and how recently they bought.',
  expectedPurchases: 'Purchases the model expects from the contact in the next 30 and 90 days.',
  expectedValue: 'What one future purchase of this contact is expected to be worth.',
  clv: 'Customer lifetime value: expected future purchases × their value, discounted, over the horizon in the settings.',
  valueAtRisk:
    'CLV × churn risk: the value that leaves if the contact does. The list is sorted by it.',
  engagement:
    '0–100 from recent visits, actions and purchases; it halves every half-life without activity.',
  nextBestAction:
    'The candidate action to try next with this contact, drawn from the outcomes counted so far.',
  fittedAt: 'When the model these numbers come from was fitted; empty before the first fit.',
} as const
