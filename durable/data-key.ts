/**
 * Per-contact data keys for the archive (AES-256-GCM via WebCrypto). The ContactDO holds the
 * raw key; the archive holds only ciphertext, so destroying the key erases the person from
 * immutable archive objects without rewriting them (crypto-shredding).
 */

export interface SealedText {
  iv: string
  sealed: string
}

export function generateDataKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32)))
}

export function importDataKey(raw: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', fromBase64(raw), 'AES-GCM', false, ['encrypt', 'decrypt'])
}

export async function sealText(key: CryptoKey, text: string): Promise<SealedText> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    key,
    new TextEncoder().encode(text),
  )
  return { iv: toBase64(iv), sealed: toBase64(new Uint8Array(sealed)) }
}

/** Throws when the key is not the one that sealed the text (GCM authenticates). */
export async function openText(key: CryptoKey, value: SealedText): Promise<string> {
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: fromBase64(value.iv) },
    key,
    fromBase64(value.sealed),
  )
  return new TextDecoder().decode(plain)
}

function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64()
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text)
}
