import { constants, gzipSync } from 'node:zlib'
import type { ArchiveRecord } from '../../contracts/queue-messages'
import { hex } from '../../domain/hex'

/**
 * Writes one gzip NDJSON object per consumer batch under `archive/dt=YYYY-MM-DD/hr=HH/`. The
 * object name is a hash of the event ids, so a redelivered batch rewrites the same object
 * instead of adding a copy, and distinct batches never contend for one key.
 */
export async function writeArchive(bucket: R2Bucket, records: ArchiveRecord[]): Promise<string> {
  const sorted = [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const first = sorted.reduce(
    (min, r) => (r.receivedAt < min ? r.receivedAt : min),
    sorted[0]!.receivedAt,
  )
  const name = await digest(sorted.map((r) => r.id).join('\n'))
  const key = `archive/dt=${first.slice(0, 10)}/hr=${first.slice(11, 13)}/${name}.ndjson.gz`
  const ndjson = sorted.map((r) => JSON.stringify(r)).join('\n') + '\n'
  // Nearly every byte is the base64 of AES-GCM ciphertext, where deflate's search for repeats
  // finds none: Huffman coding alone takes what base64 wastes, at a third of the CPU of the
  // default level, for objects about a tenth larger (bench/results/2026-11-25-consumer.md).
  const gzipped = gzipSync(ndjson, { strategy: constants.Z_HUFFMAN_ONLY })
  await bucket.put(key, gzipped, {
    httpMetadata: { contentType: 'application/x-ndjson', contentEncoding: 'gzip' },
    customMetadata: { events: String(sorted.length) },
  })
  return key
}

export async function readArchive(bucket: R2Bucket, key: string): Promise<ArchiveRecord[]> {
  const object = await bucket.get(key)
  if (!object) return []
  const text = await new Response(object.body.pipeThrough(new DecompressionStream('gzip'))).text()
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ArchiveRecord)
}

async function digest(text: string): Promise<string> {
  const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return hex(hash, 16)
}
