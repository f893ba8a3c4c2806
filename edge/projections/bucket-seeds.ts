import { bucketSeed } from '../../domain/segments/bucket'

/** Contacts given a seed per cron run; the queue consumer seeds every contact it writes. */
const PER_RUN = 1_000

/**
 * Contacts projected before random buckets existed have no `bucket_seed`, so SQL could not put
 * them in a `bucket` segment while their objects do. The cron seeds them, a page per run, until
 * none is left. Returns how many it seeded.
 */
export async function seedMissingBuckets(db: D1Database): Promise<number> {
  const { results } = await db
    .prepare('SELECT key FROM contacts WHERE bucket_seed IS NULL LIMIT ?')
    .bind(PER_RUN)
    .all<{ key: string }>()
  if (results.length === 0) return 0
  const rows = JSON.stringify(results.map(({ key }) => [key, bucketSeed(key)]))
  await db
    .prepare(
      `UPDATE contacts SET bucket_seed = (SELECT json_extract(r.value, '$[1]') FROM json_each(?1) AS r
         WHERE json_extract(r.value, '$[0]') = contacts.key)
       WHERE key IN (SELECT json_extract(value, '$[0]') FROM json_each(?1))`,
    )
    .bind(rows)
    .run()
  return results.length
}
