import { describe, expect, it } from 'vitest'
import { hex } from './hex'

describe('hex', () => {
  it('writes every byte as two lowercase digits, whole or its first bytes', async () => {
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'))
    expect(hex(digest)).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    expect(hex(digest, 16)).toBe('ba7816bf8f01cfea414140de5dae2223')
    expect(hex(new Uint8Array([0, 9, 10, 255]).buffer)).toBe('00090aff')
  })
})
