import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { buildTracker, formatSizes } from '../tracker/build.ts'

/** Builds everything the Worker serves as static assets into dist/site. */
const vite = spawnSync(
  'node_modules/.bin/vite',
  ['build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
  { stdio: 'inherit' },
)
if (vite.status !== 0) process.exit(vite.status ?? 1)
console.log('console built into dist/site')

// After vite, which empties dist/site.
const tracker = await buildTracker()
console.log(formatSizes(tracker.sizes))

// t.js keeps one URL for every site that embeds it: browsers may reuse it for a day and then
// revalidate with its ETag (a content hash), so a new build reaches everyone within a day.
await writeFile(
  'dist/site/_headers',
  `/t.js
  Cache-Control: public, max-age=86400, stale-while-revalidate=604800
  Access-Control-Allow-Origin: *
`,
)
