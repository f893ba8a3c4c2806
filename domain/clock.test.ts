import { describe, expect, it } from 'vitest'
import { correctTimestamp } from './clock'

const receivedAt = new Date('2026-11-25T12:00:00.000Z')

describe('correctTimestamp', () => {
  it('anchors the gap between the event and its send to the time Cairn received it', () => {
    const result = correctTimestamp({
      timestamp: '2020-01-02T00:00:00.000Z',
      sentAt: '2020-01-02T00:00:05.000Z',
      receivedAt,
    })
    expect(result.timestamp.toISOString()).toBe('2026-11-25T11:59:55.000Z')
    expect(result.originalTimestamp).toBe('2020-01-02T00:00:00.000Z')
  })

  it('keeps a past timestamp that has no sentAt (server SDKs, imports of history)', () => {
    const result = correctTimestamp({ timestamp: '2024-03-01T08:00:00.000Z', receivedAt })
    expect(result.timestamp.toISOString()).toBe('2024-03-01T08:00:00.000Z')
  })

  it('uses receivedAt when there is no timestamp', () => {
    expect(correctTimestamp({ receivedAt }).timestamp).toEqual(receivedAt)
  })

  it('never dates an event after it was received, and keeps what the client said', () => {
    const ahead = correctTimestamp({ timestamp: '2099-01-01T00:00:00.000Z', receivedAt })
    expect(ahead.timestamp).toEqual(receivedAt)
    expect(ahead.originalTimestamp).toBe('2099-01-01T00:00:00.000Z')
    // Sent before it happened: the corrected time would fall 10 s after receipt.
    const sentFirst = correctTimestamp({
      timestamp: '2026-11-25T10:00:10.000Z',
      sentAt: '2026-11-25T10:00:00.000Z',
      receivedAt,
    })
    expect(sentFirst.timestamp).toEqual(receivedAt)
  })
})
