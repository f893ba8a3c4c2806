/**
 * Client clock-skew correction, as Segment does it: the client's own clock dates both the event
 * (`timestamp`) and the send (`sentAt`), so their difference is trustworthy even when the clock
 * is wrong; anchoring that difference to the server's `receivedAt` gives the true time.
 */
export function correctTimestamp(input: {
  timestamp?: string
  sentAt?: string
  receivedAt: Date
}): { timestamp: Date; originalTimestamp?: string } {
  const event = parseDate(input.timestamp)
  const sent = parseDate(input.sentAt)
  if (!event) return { timestamp: input.receivedAt }
  if (!sent) return { timestamp: event, originalTimestamp: input.timestamp }
  const skew = sent.getTime() - event.getTime()
  return {
    timestamp: new Date(input.receivedAt.getTime() - skew),
    originalTimestamp: input.timestamp,
  }
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}
