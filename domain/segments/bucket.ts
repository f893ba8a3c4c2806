/**
 * Random buckets (`bucket {percent, salt}`): each contact falls in one of 10 000 buckets per
 * salt, stable for life. D1 keeps each contact's seed (`bucket_seed`), and the SQL compiler
 * (sql.ts) recomputes `bucketOf` with SQLite's 64-bit signed integers, which have no XOR:
 * every step here is one SQLite can take exactly, with xor(a, b) = (a | b) - (a & b) and every
 * intermediate below 2^63 (a 32-bit value times a 27-bit multiplier).
 */

export const BUCKETS = 10_000
/** The multiplier of both mixing rounds; 0x45d9f3b < 2^27. */
export const BUCKET_MULTIPLIER = 0x45d9f3b
/** Keeps the low 32 bits of each product, as `Math.imul(…) >>> 0` does. */
export const BUCKET_MASK = 0xffffffff

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193
/** What TextEncoder writes for a lone surrogate (U+FFFD). */
const REPLACEMENT = 0xfffd

/** A contact's seed: FNV-1a (32-bit, unsigned) of its key's UTF-8 bytes. */
export function bucketSeed(key: string): number {
  return fnv1a(key)
}

/** The same hash of a salt, which the SQL compiler writes into its query as a number. */
export function saltHash(salt: string): number {
  return fnv1a(salt)
}

/** The bucket (0…9999) of a seed under a salt: the seed mixed with the salt's hash. */
export function bucketOf(seed: number, salt: string): number {
  let x = (seed ^ saltHash(salt)) >>> 0
  x = Math.imul((x >>> 16) ^ x, BUCKET_MULTIPLIER) >>> 0
  x = Math.imul((x >>> 16) ^ x, BUCKET_MULTIPLIER) >>> 0
  x = ((x >>> 16) ^ x) >>> 0
  return x % BUCKETS
}

/** Buckets below this are in: percent has two decimals, so 12.34 % is 1234 of 10 000. */
export function bucketThreshold(percent: number): number {
  return Math.round(percent * 100)
}

/** Encodes UTF-8 as it hashes, so a key costs no byte array on every evaluation. */
function fnv1a(text: string): number {
  let hash = FNV_OFFSET
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd800 && c < 0xe000) {
      const low = c < 0xdc00 ? text.charCodeAt(i + 1) : NaN
      if (low >= 0xdc00 && low < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00)
        i++
      } else {
        c = REPLACEMENT
      }
    }
    if (c < 0x80) {
      hash = step(hash, c)
    } else if (c < 0x800) {
      hash = step(step(hash, 0xc0 | (c >> 6)), 0x80 | (c & 0x3f))
    } else if (c < 0x10000) {
      hash = step(step(step(hash, 0xe0 | (c >> 12)), 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f))
    } else {
      hash = step(step(hash, 0xf0 | (c >> 18)), 0x80 | ((c >> 12) & 0x3f))
      hash = step(step(hash, 0x80 | ((c >> 6) & 0x3f)), 0x80 | (c & 0x3f))
    }
  }
  return hash >>> 0
}

function step(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, FNV_PRIME)
}
