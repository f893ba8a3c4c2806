import { describe, expect, it } from 'vitest'
import { ApiError } from '../errors'
import { decodeCursor, encodeCursor } from './keyset'

describe('keyset cursors', () => {
  it('carry any key, emoji and accents included, safely in a URL', () => {
    const values = ['2026-11-25T10:00:00.000Z', 'Ünïcødé 🎉 user/+=']
    const cursor = encodeCursor(values)
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(decodeCursor(cursor, ['string', 'string'])).toEqual(values)
    expect(decodeCursor(encodeCursor([1764064800000, 42]), ['number', 'number'])).toEqual([
      1764064800000, 42,
    ])
  })

  it('refuse what the API did not make', () => {
    for (const [cursor, types] of [
      ['not a cursor!', ['string']],
      [encodeCursor(['a']), ['string', 'string']],
      [encodeCursor(['1', '2']), ['number', 'number']],
      [btoa('\xff\xfe'), ['string']],
    ] as const) {
      const attempt = () => decodeCursor(cursor, types)
      expect(attempt).toThrow(ApiError)
      expect(attempt).toThrow('The cursor is not one this API returned')
    }
    expect(decodeCursor(undefined, ['string'])).toBeNull()
  })
})
