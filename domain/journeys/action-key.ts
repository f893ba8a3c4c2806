/**
 * The idempotency key of what a journey step sends (an email, a webhook, a ticket):
 * `journey:<journey>:<version>:<node>:<run>:<step>`. The same step replayed (a repeated alarm, a
 * retried transaction) makes the same key, so messaging makes no second message and a webhook
 * receiver drops the repeat; and the key says which version and node sent a message, which the
 * journey's metrics count per email node. Journey and node ids hold no colon.
 */
export function actionKey(
  journeyId: string,
  version: number,
  node: string,
  stepKey: string,
): string {
  return `journey:${journeyId}:${version}:${node}:${stepKey}`
}

/** The journey version and node an action key names; null for a key not made by a journey. */
export function actionOrigin(key: string): { version: number; node: string } | null {
  const parts = key.split(':')
  if (parts[0] !== 'journey' || parts.length < 4) return null
  const version = Number(parts[2])
  return Number.isInteger(version) ? { version, node: parts[3]! } : null
}
