import { describe, expect, it } from 'vitest'
import {
  BUCKETS,
  BUCKET_MASK,
  BUCKET_MULTIPLIER,
  bucketOf,
  bucketSeed,
  bucketThreshold,
  saltHash,
} from './bucket'

/** FNV-1a over TextEncoder's bytes: the textbook form, against the module's inline UTF-8. */
function fnv1aOfBytes(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193)
  return hash >>> 0
}

/**
 * bucketOf as the SQL compiler writes it: SQLite's 64-bit signed integers, no XOR, each step
 * wrapped to 64 bits as SQLite would (it never needs to: nothing here passes 2^59).
 */
function sqliteBucketOf(seed: number, salt: number): number {
  const i64 = (n: bigint) => BigInt.asIntN(64, n)
  const xor = (a: bigint, b: bigint) => i64((a | b) - (a & b))
  const mix = (x: bigint) => i64(xor(x >> 16n, x) * BigInt(BUCKET_MULTIPLIER)) & BigInt(BUCKET_MASK)
  let x = xor(BigInt(seed), BigInt(salt))
  x = mix(mix(x))
  x = xor(x >> 16n, x)
  return Number(x % BigInt(BUCKETS))
}

describe('bucketSeed', () => {
  it('is FNV-1a 32-bit: the published test vectors', () => {
    expect(bucketSeed('')).toBe(0x811c9dc5)
    expect(bucketSeed('a')).toBe(0xe40c292c)
    expect(bucketSeed('foobar')).toBe(0xbf9cf968)
  })

  it('hashes the UTF-8 bytes of any key, astral characters and lone surrogates too', () => {
    for (const key of [
      'é',
      'ключ',
      '☃',
      '\u{1f600}',
      'a\u{10ffff}b',
      '\ud800',
      'x\udc00',
      '\ud83d',
    ]) {
      expect(bucketSeed(key), JSON.stringify(key)).toBe(fnv1aOfBytes(key))
    }
  })

  it('is unsigned, as D1 stores it', () => {
    const seeds = Array.from({ length: 1000 }, (_, i) => bucketSeed(`user:${i}`))
    expect(Math.min(...seeds)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...seeds)).toBeGreaterThan(2 ** 31)
    expect(seeds.every(Number.isInteger)).toBe(true)
  })

  it('hashes a salt the same way', () => {
    expect(saltHash('spring')).toBe(fnv1aOfBytes('spring'))
  })
})

describe('bucketOf', () => {
  it('never changes for a key and salt: these were checked against sqlite3 3.40', () => {
    expect(bucketOf(bucketSeed('user:1'), '')).toBe(9425)
    expect(bucketOf(bucketSeed('user:1'), 'spring')).toBe(2253)
    expect(bucketOf(bucketSeed('anon:00000000-0000-0000-0000-000000000000'), '')).toBe(9937)
    expect(bucketOf(bucketSeed('jean.dupont@example.com'), 'exp-42')).toBe(1067)
    expect(bucketOf(bucketSeed('ключ'), '☃')).toBe(8888)
  })

  it('agrees with the SQLite form (64-bit, no XOR) for seeds across the whole range', () => {
    const salts = ['', 'spring', 'exp-42', '☃']
    const seeds = [0, 1, 0xffff, 0x10000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]
    for (let i = 0; i < 2000; i++) seeds.push(bucketSeed(`contact-${i}`))
    for (const salt of salts) {
      for (const seed of seeds) {
        expect(bucketOf(seed, salt), `${seed}/${salt}`).toBe(sqliteBucketOf(seed, saltHash(salt)))
      }
    }
  })

  it('stays in 0…9999', () => {
    for (const seed of [0, 2 ** 32 - 1, 123_456_789]) {
      const bucket = bucketOf(seed, 'x')
      expect(bucket).toBeGreaterThanOrEqual(0)
      expect(bucket).toBeLessThan(BUCKETS)
    }
  })

  it('puts 10 % of 10 000 keys under the 10 % threshold, within ±1.5 points (5 sd)', () => {
    const threshold = bucketThreshold(10)
    for (const salt of ['', 'spring']) {
      let inside = 0
      for (let i = 0; i < 10_000; i++)
        if (bucketOf(bucketSeed(`user:${i}`), salt) < threshold) inside++
      expect(inside, salt).toBeGreaterThanOrEqual(850)
      expect(inside, salt).toBeLessThanOrEqual(1150)
    }
  })

  it('draws an independent sample for each salt', () => {
    // Two 50 % samples overlap on about a quarter of the keys when the salts are independent.
    const threshold = bucketThreshold(50)
    let both = 0
    for (let i = 0; i < 10_000; i++) {
      const seed = bucketSeed(`user:${i}`)
      if (bucketOf(seed, 'a') < threshold && bucketOf(seed, 'b') < threshold) both++
    }
    expect(both).toBeGreaterThan(2_300)
    expect(both).toBeLessThan(2_700)
  })
})

describe('bucketThreshold', () => {
  it('counts hundredths of a percent, rounding away float error', () => {
    expect(0.29 * 100).not.toBe(29)
    expect(bucketThreshold(0.29)).toBe(29)
    expect(bucketThreshold(12.34)).toBe(1234)
    expect(bucketThreshold(0.01)).toBe(1)
    expect(bucketThreshold(100)).toBe(BUCKETS)
  })
})
