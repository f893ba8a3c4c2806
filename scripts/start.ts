import { spawnSync } from 'node:child_process'
import { describeCounts, refitAttribution, seedDemo } from './seed.ts'
import { generateKey, startLocalStack } from './local-stack.ts'

/**
 * `npm start`: builds the console and tracker, starts the whole stack locally with persistent
 * state in .wrangler/state, seeds demo data through the public API, and prints where to go.
 */
const port = Number(process.env.PORT ?? 8787)
const generated = !process.env.CAIRN_ADMIN_KEY
const adminKey = process.env.CAIRN_ADMIN_KEY ?? generateKey('sk_admin')

step('Building the console and the tracker')
const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

step(
  `Starting the local stack on port ${port} (wrangler dev: Worker, Durable Objects, D1, R2, Queues)`,
)
const stack = await startLocalStack({
  port,
  persistTo: '.wrangler/state',
  adminKey,
  inheritOutput: false,
  moveOutdatedState: true,
})
if (stack.movedAside) {
  console.log(`The local state predates the current D1 schema (it lacks ${stack.movedAside.missingTables.join(', ')}):
moved it to ${stack.movedAside.to} and started on a fresh one.`)
}
process.on('SIGINT', () => void stack.stop().then(() => process.exit(0)))
process.on('SIGTERM', () => void stack.stop().then(() => process.exit(0)))

step('Seeding demo data through the public API')
const seeded = await seedDemo({ url: stack.url, adminKey, log: (line) => console.log(line) })
// The queue delivers at once; a moment lets the last conversions reach D1 before the fit.
await new Promise((resolve) => setTimeout(resolve, 1_500))
await refitAttribution(stack.url, adminKey)

console.log(`
Cairn is running.

  Console      ${stack.url}/
  Demo shop    ${stack.url}/demo/
  API docs     ${stack.url}/api/openapi.json
  Admin key    ${adminKey}${generated ? '   (generated; set CAIRN_ADMIN_KEY to choose one)' : ''}
  Write key    ${seeded.source.writeKey}   (source "${seeded.source.name}")

  Seeded ${seeded.visitors} visitors, ${seeded.events} events, ${seeded.signups} sign-ups, ${seeded.orders} orders, ${seeded.segments} segments.
  Journey      ${stack.url}/api/journeys/${seeded.journey}/metrics   (live: every sign-up enters it)
  Messages through the log provider: ${describeCounts(seeded.messages)}.

  Try:  curl -u ${seeded.source.writeKey}: ${stack.url}/v1/track -H 'Content-Type: application/json' \\
          -d '{"userId":"ada","event":"Tried Cairn"}'
        curl -H 'Authorization: Bearer ${adminKey}' ${stack.url}/api/contacts/ada

Press Ctrl-C to stop.`)

function step(text: string) {
  console.log(`\n▸ ${text}`)
}
