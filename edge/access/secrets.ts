/** Random tokens and their hashes: secret keys and session tokens are stored only as SHA-256. */
import { hex } from '../../domain/hex'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

/** Unbiased: bytes at or above the largest multiple of the alphabet size are drawn again. */
export function randomToken(length: number): string {
  const limit = 256 - (256 % ALPHABET.length)
  let token = ''
  while (token.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < limit && token.length < length) token += ALPHABET[byte % ALPHABET.length]
    }
  }
  return token
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return hex(digest)
}

/** Compares digests so the time taken says nothing about how much of the secret matched. */
export async function equalSecrets(a: string, b: string): Promise<boolean> {
  const encoder = new TextEncoder()
  const [da, db] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(a)),
    crypto.subtle.digest('SHA-256', encoder.encode(b)),
  ])
  return crypto.subtle.timingSafeEqual(da, db)
}
