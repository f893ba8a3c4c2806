import { describe, expect, it } from 'vitest'
import { Memo } from './memo'

describe('a memo per isolate', () => {
  it('computes each key once, and drops everything past its bound', async () => {
    const memo = new Memo<string>(2)
    let computed = 0
    const hash = (key: string) => memo.get(key, async () => `${key}#${++computed}`)
    expect(await hash('a')).toBe('a#1')
    expect(await hash('a')).toBe('a#1')
    expect(await hash('b')).toBe('b#2')
    expect(await hash('c')).toBe('c#3')
    // The bound was reached at "c": "a" is computed again.
    expect(await hash('a')).toBe('a#4')
    expect(await hash('c')).toBe('c#3')
  })
})
