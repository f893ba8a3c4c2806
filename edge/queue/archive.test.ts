import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { generateDataKey, importDataKey, sealText } from '../../durable/data-key'
import { readArchive, writeArchive } from './archive'
import type { ArchiveRecord } from '../../contracts/queue-messages'

/** Records as the ContactDO makes them: metadata in clear, the event sealed with its data key. */
async function sealedRecords(count: number): Promise<ArchiveRecord[]> {
  const key = await importDataKey(generateDataKey())
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const event = {
        type: 'page',
        anonymousId: crypto.randomUUID(),
        context: { page: { url: `https://shop.example/item/${i}` }, userAgent: 'Mozilla/5.0' },
      }
      return {
        id: crypto.randomUUID(),
        type: 'page',
        receivedAt: `2026-11-25T13:0${i % 10}:00.000Z`,
        timestamp: '2026-11-25T12:59:00.000Z',
        sourceId: 'src_archive_test',
        keyId: 'key_1',
        ...(await sealText(key, JSON.stringify(event))),
      }
    }),
  )
}

describe('writeArchive', () => {
  it('writes one gzip object, smaller than its NDJSON, that gunzip reads back whole', async () => {
    const records = await sealedRecords(50)
    const key = await writeArchive(env.ARCHIVE, records)

    expect(key).toMatch(/^archive\/dt=2026-11-25\/hr=13\/[0-9a-f]{32}\.ndjson\.gz$/)
    const object = (await env.ARCHIVE.get(key))!
    expect(object.httpMetadata?.contentEncoding).toBe('gzip')
    expect(object.customMetadata?.events).toBe('50')
    const bytes = new Uint8Array(await object.arrayBuffer())
    expect([...bytes.slice(0, 2)]).toEqual([0x1f, 0x8b])
    const ndjsonBytes = new TextEncoder().encode(
      records.map((r) => JSON.stringify(r)).join('\n') + '\n',
    ).length
    // Sealed text is base64, which Huffman coding alone brings to about three quarters.
    expect(bytes.length).toBeLessThan(ndjsonBytes * 0.85)

    const read = await readArchive(env.ARCHIVE, key)
    const byId = (a: ArchiveRecord, b: ArchiveRecord) => (a.id < b.id ? -1 : 1)
    expect(read).toEqual([...records].sort(byId))
  })

  it('names the object by its events, so a redelivered batch rewrites the same one', async () => {
    const records = await sealedRecords(3)
    const first = await writeArchive(env.ARCHIVE, records)
    const again = await writeArchive(env.ARCHIVE, [...records].reverse())
    expect(again).toBe(first)
  })
})
