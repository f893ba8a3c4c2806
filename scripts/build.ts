import { spawnSync } from 'node:child_process'

/** Builds everything the Worker serves as static assets into dist/site. */
const vite = spawnSync(
  'node_modules/.bin/vite',
  ['build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
  {
    stdio: 'inherit',
  },
)
if (vite.status !== 0) process.exit(vite.status ?? 1)
console.log('console built into dist/site')
