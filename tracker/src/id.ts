// randomUUID exists only in secure contexts. The fallback need not be a UUID (anonymousId and
// messageId are free-form strings in Segment's spec), only unique.
export const uuid = (): string => crypto.randomUUID?.() || Math.random() + '-' + Date.now()
