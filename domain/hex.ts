/**
 * Lowercase hex of bytes (a digest, or its first `length` bytes). Pure, for Node 24 and workerd
 * alike: Node 24 has no `Uint8Array.prototype.toHex` yet.
 */
const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))

export function hex(bytes: ArrayBuffer, length = bytes.byteLength): string {
  let out = ''
  for (const byte of new Uint8Array(bytes, 0, length)) out += BYTE_HEX[byte]
  return out
}
