/**
 * Client clock-skew correction, as Segment does it: the client's own clock dates both the event
 * (`timestamp`) and the send (`sentAt`), so their difference is trustworthy even when the clock
 * is wrong; anchoring that difference to the server's `receivedAt` gives the true time.
 *
 * No event happens after Cairn received it, so a time past `receivedAt` (a clock set years ahead
 * with no `sentAt` to correct it, or a `sentAt` older than the event) becomes `receivedAt`: left
 * alone it would be the contact's "last seen" and the newest entry of its timeline for years.
 */
export function correctTimestamp(input: {
  timestamp?: string
  sentAt?: string
  receivedAt: Date
}): { timestamp: Date; originalTimestamp?: string } {
  const event = parseDate(input.timestamp)
  const sent = parseDate(input.sentAt)
  if (!event) return { timestamp: input.receivedAt }
  const received = input.receivedAt.getTime()
  const corrected = sent ? received - (sent.getTime() - event.getTime()) : event.getTime()
  return {
    timestamp: corrected > received ? input.receivedAt : new Date(corrected),
    originalTimestamp: input.timestamp,
  }
}

function parseDate(value: string | undefined): Date | null {
  if (!value) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}
