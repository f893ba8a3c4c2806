import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { bucketSeed } from '../../domain/segments/bucket'
import { seedMissingBuckets } from './bucket-seeds'

describe('bucket seeds of contacts projected before buckets existed', () => {
  it('are filled by the cron, so SQL buckets them as their objects do', async () => {
    const keys = ['old-contact-1', 'anon:old-contact-2']
    for (const key of keys) {
      await env.DB.prepare(
        `INSERT INTO contacts (key, anonymous_ids, traits, first_seen, last_seen, event_count, version)
         VALUES (?, '[]', '{}', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1, 1)`,
      )
        .bind(key)
        .run()
    }
    expect(await seedMissingBuckets(env.DB)).toBe(2)
    const { results } = await env.DB.prepare(
      'SELECT key, bucket_seed AS seed FROM contacts WHERE key IN (?, ?) ORDER BY key',
    )
      .bind(...keys)
      .all<{ key: string; seed: number }>()
    expect(results).toEqual([...keys].sort().map((key) => ({ key, seed: bucketSeed(key) })))
    expect(await seedMissingBuckets(env.DB)).toBe(0)
  })
})
