import { loadDomainBundle } from './domain.ts'

/**
 * The segment rule compiler (domain/segments/sql.ts) for use in this Node process, so the bench
 * times the very statements the preview route sends rather than SQL of its own. Its modules
 * import each other without extensions, which Node refuses, so esbuild joins them first (as
 * domain.ts does for attribution).
 */
export type SegmentsSql = Pick<
  typeof import('../domain/segments/sql.ts'),
  'countQuery' | 'sampleQuery'
>

export function loadSegmentsSql(): Promise<SegmentsSql> {
  return loadDomainBundle<SegmentsSql>('segments-sql', { entryPoints: ['domain/segments/sql.ts'] })
}
