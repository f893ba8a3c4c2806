import { describe, expect, it } from 'vitest'
import {
  deliveriesOf,
  errorRate,
  retryDelaySeconds,
  settleSeconds,
  stuck,
  tallyMessages,
  type Acceptance,
  type MessageRow,
  type SendRecord,
} from './messaging-tally.ts'

const down = (status = 'retryable') => ({ provider: 'sendgrid', status })
const flaky = (status: string) => ({ provider: 'resend', status })

function send(id: string, status = 'queued'): SendRecord {
  return { messageId: id, status, duplicate: false, to: `${id}@example.com`, subject: `For ${id}` }
}

function row(id: string, status: string, attempts: MessageRow['attempts'] = []): MessageRow {
  const at = '2026-12-06T10:00:05.000Z'
  return { id, status, reason: null, attempts, createdAt: at, updatedAt: at }
}

const accepted = (id: string, times = 1): [string, Acceptance[]] => [
  id,
  Array.from({ length: times }, () => ({ to: `${id}@example.com`, subject: `For ${id}` })),
]

const tally = (
  sends: SendRecord[],
  rows: MessageRow[],
  acceptances: [string, Acceptance[]][],
  resends: { originalId: string; messageId: string; duplicate: boolean }[] = [],
) =>
  tallyMessages({
    sends,
    resends,
    rows,
    accepted: new Map(acceptances),
    firstProvider: 'sendgrid',
    now: Date.parse('2026-12-06T10:00:10.000Z'),
  })

describe('tallyMessages', () => {
  it('balances when each message was accepted once and Cairn says sent', () => {
    const result = tally(
      [send('a'), send('b')],
      [
        row('a', 'sent', [down(), flaky('sent')]),
        row('b', 'sent', [down('skipped'), flaky('sent')]),
      ],
      [accepted('a'), accepted('b')],
    )
    expect(result).toMatchObject({
      created: 2,
      accepted: 2,
      lost: 0,
      duplicated: 0,
      unsettled: 0,
      acceptedNotSent: 0,
      misaddressed: 0,
      statuses: { sent: 2 },
      deliveries: { '1': 2 },
      retried: 0,
      attempts: { sendgrid: { retryable: 1, skipped: 1 }, resend: { sent: 2 } },
    })
    expect(errorRate(result)).toBe(0)
  })

  it('counts a message accepted twice as duplicated, and each extra acceptance', () => {
    const result = tally(
      [send('a'), send('b')],
      [row('a', 'sent'), row('b', 'sent')],
      [accepted('a', 3), accepted('b')],
    )
    expect(result).toMatchObject({ duplicated: 1, extraAcceptances: 2, lost: 0 })
    expect(errorRate(result)).toBe(0.5)
  })

  it('counts as lost a message never accepted unless Cairn says it failed', () => {
    const result = tally(
      [send('queued'), send('phantom'), send('failed'), send('missing')],
      [
        { ...row('queued', 'queued'), createdAt: '2026-12-06T09:00:00.000Z' },
        row('phantom', 'sent'),
        { ...row('failed', 'failed'), reason: 'boom' },
      ],
      [],
    )
    expect(result).toMatchObject({
      lost: 3,
      lostButSent: 1,
      unsettled: 2,
      missingRows: 1,
      statuses: { queued: 1, sent: 1, failed: 1, missing: 1 },
      failureReasons: { boom: 1 },
    })
  })

  it('does not expect a message the contact object stopped at once to be sent', () => {
    const result = tally([send('a', 'no_consent')], [row('a', 'no_consent')], [])
    expect(result).toMatchObject({ refusedAtCreation: 1, lost: 0, unsettled: 0 })
  })

  it('flags acceptances Cairn does not show as sent, to the wrong person, or of unknown ids', () => {
    const wrong: Acceptance = { to: 'someone@else.com', subject: 'For b' }
    const result = tally(
      [send('a'), send('b')],
      [row('a', 'failed'), row('b', 'sent')],
      [accepted('a'), ['b', [wrong]], accepted('stranger')],
    )
    expect(result).toMatchObject({ acceptedNotSent: 1, misaddressed: 1, unknownAccepted: 1 })
  })

  it('counts each message once however often its send was repeated, and checks the repeats', () => {
    const result = tally(
      [send('a'), send('a'), send('b')],
      [row('a', 'sent'), row('b', 'sent')],
      [accepted('a'), accepted('b')],
      [
        { originalId: 'a', messageId: 'a', duplicate: true },
        { originalId: 'b', messageId: 'c', duplicate: false },
      ],
    )
    expect(result).toMatchObject({ created: 2, resends: 2, resendsNotDuplicate: 1 })
  })

  it('reads queue deliveries and deliveries that found every circuit open from the attempts', () => {
    const attempts = [
      down(),
      flaky('retryable'),
      down('skipped'),
      flaky('skipped'),
      down('skipped'),
      flaky('sent'),
    ]
    expect(deliveriesOf(attempts, 'sendgrid')).toBe(3)
    const result = tally([send('a')], [row('a', 'sent', attempts)], [accepted('a')])
    expect(result).toMatchObject({
      deliveries: { '3': 1 },
      deliveriesTotal: 3,
      retried: 1,
      allSkippedDeliveries: 1,
    })
  })
})

describe('stuck', () => {
  const made = Date.parse('2026-12-06T10:00:05.000Z')
  const retried = (deliveries: number, lastAt: string): MessageRow => ({
    ...row('a', 'queued'),
    attempts: Array.from({ length: deliveries }, () => [
      { ...down(), at: lastAt },
      { ...flaky('retryable'), at: lastAt },
    ]).flat(),
  })

  it('backs off as the send consumer does: 5 s doubling to 300 s', () => {
    expect([1, 2, 3, 6, 7, 10].map(retryDelaySeconds)).toEqual([5, 10, 20, 160, 300, 300])
  })

  it('is a queued message never delivered 30 s after it was made, or missing', () => {
    expect(stuck(row('a', 'queued'), 'sendgrid', made + 29_000)).toBe(false)
    expect(stuck(row('a', 'queued'), 'sendgrid', made + 31_000)).toBe(true)
    expect(stuck(undefined, 'sendgrid', made)).toBe(true)
    expect(stuck(row('a', 'sent'), 'sendgrid', made + 3_600_000)).toBe(false)
  })

  it('is not a message waiting out its backoff, only one overdue past it', () => {
    const third = retried(3, '2026-12-06T10:00:05.000Z')
    // After 3 deliveries the next comes 20 s later; 30 s of slack beyond that.
    expect(stuck(third, 'sendgrid', made + 49_000)).toBe(false)
    expect(stuck(third, 'sendgrid', made + 51_000)).toBe(true)
    expect(stuck(retried(8, '2026-12-06T10:00:05.000Z'), 'sendgrid', made + 320_000)).toBe(false)
  })

  it('counts in the tally apart from the messages merely unsettled', () => {
    const waiting = { ...retried(1, '2026-12-06T10:00:09.000Z'), id: 'waiting' }
    const forgotten = { ...row('forgotten', 'queued'), createdAt: '2026-12-06T09:00:00.000Z' }
    const result = tally([send('waiting'), send('forgotten')], [waiting, forgotten], [])
    expect(result).toMatchObject({ unsettled: 2, stuck: 1, lost: 1 })
  })
})

describe('settleSeconds', () => {
  const start = Date.parse('2026-12-06T10:00:00.000Z')
  const at = (id: string, second: number, status = 'sent') => ({
    ...row(id, status),
    updatedAt: new Date(start + second * 1000).toISOString(),
  })

  it('gives the time by which each share had settled, queued messages left out', () => {
    const rows = [at('a', 1), at('b', 3), at('c', 2, 'failed'), at('d', 9, 'queued')]
    expect(settleSeconds(rows, start, 4, [0.5, 0.75, 1])).toEqual([2, 3, null])
    expect(settleSeconds(rows.slice(0, 3), start, 3, [1])).toEqual([3])
  })
})
