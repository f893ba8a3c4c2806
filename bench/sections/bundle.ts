import { bundleBreakdown, bundleCairn } from '../build.ts'
import { progress } from '../progress.ts'
import { kib } from '../report.ts'
import type { Section } from './section.ts'

/** The Worker as `wrangler deploy` would upload it; the ingestion section runs this bundle. */
export const bundleSection: Section = {
  name: 'bundle',
  async run() {
    progress('bundle', 'wrangler deploy --dry-run --outdir bench/.out/cairn')
    const size = bundleCairn()
    try {
      size.largestInputs = await bundleBreakdown()
    } catch (error) {
      progress('bundle', `breakdown skipped: ${(error as Error).message.split('\n')[0]}`)
    }
    const total = size.largestInputs.reduce((sum, i) => sum + i.bytes, 0)
    const summary = [
      `Worker bundle (${size.script}): ${kib(size.rawBytes)} raw, ${kib(size.gzipBytes)} gzip -9` +
        (size.wranglerReport ? `  [wrangler: ${size.wranglerReport}]` : ''),
    ]
    if (size.largestInputs.length > 0) {
      summary.push(
        '  largest parts: ' +
          size.largestInputs
            .slice(0, 6)
            .map((i) => `${i.input} ${kib(i.bytes)} (${((i.bytes / total) * 100).toFixed(0)}%)`)
            .join(', '),
      )
    }
    progress('bundle', summary[0]!)
    return {
      summary,
      checks: [
        {
          name: 'bundle under the 64 MiB Worker limit',
          ok: size.rawBytes < 64 * 2 ** 20,
          detail: kib(size.rawBytes),
        },
      ],
      data: size,
    }
  },
}
