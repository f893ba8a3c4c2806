import { spawnSync } from 'node:child_process'
import { describeCounts, seedDemo, type SeedResult } from './seed.ts'
import { generateKey, startLocalStack } from './local-stack.ts'

/**
 * `npm start`: builds the console and tracker, starts the whole stack locally with persistent
 * state in .wrangler/state, seeds demo data through the public API, and prints where to go.
 */
/** Short column heads for the attribution table (defined before the top-level awaits use it). */
const MODEL_LABELS: Record<string, string> = { last_non_direct: 'last n-d', time_decay: 'decay' }

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
// npm start always fits them (the option is for tests sharing a stack).
const predictions = seeded.predictions!

console.log(`
Cairn is running.

  Console      ${stack.url}/
  Demo shop    ${stack.url}/demo/
  API docs     ${stack.url}/api/openapi.json
  Admin key    ${adminKey}${generated ? '   (generated; set CAIRN_ADMIN_KEY to choose one)' : ''}
  Write key    ${seeded.source.writeKey}   (source "${seeded.source.name}")

  Seeded       ${seeded.visitors} visitors (${seeded.averageVisits.toFixed(1)} visits each on average), ${seeded.signups} sign-ups, ${seeded.orders} orders;
               ${seeded.customers} customers with ${seeded.purchases} purchases over six months (${seeded.lapsed} lapsed); ${seeded.events} events, ${seeded.segments} segments.
  Predictions  fitted on ${predictions.customers} customers; ${predictions.atRisk} at risk (churn risk ≥ ${predictions.atRiskThreshold})   ${stack.url}/predictions
  Journeys     live, through the log provider:
${seeded.journeys.map(describeJourney).join('\n')}
  Messages     a newsletter to every sign-up, a welcome to those without marketing consent:
               ${describeCounts(seeded.messages)}.

  Attribution  conversions per channel over the last 30 days, by model:
${attributionTable(seeded.attribution)}

  Try:  curl -u ${seeded.source.writeKey}: ${stack.url}/v1/track -H 'Content-Type: application/json' \\
          -d '{"userId":"ada","event":"Tried Cairn"}'
        curl -H 'Authorization: Bearer ${adminKey}' ${stack.url}/api/contacts/ada

Press Ctrl-C to stop.`)

function describeJourney(j: SeedResult['journeys'][number]) {
  return `    ${j.name.padEnd(16)} ${j.entered} entered, ${j.active} active, ${j.converted} converted; emails: ${describeCounts(j.messages)}`
}

/** Channels down, models across: where the models disagree is what the demo shows. */
function attributionTable(models: SeedResult['attribution']) {
  const names = Object.keys(models)
  const channels = [...new Set(names.flatMap((m) => Object.keys(models[m]!)))].sort()
  const cell = (text: string) => text.padStart(10)
  const rows = channels.map(
    (c) => `    ${c.padEnd(16)}${names.map((m) => cell((models[m]![c] ?? 0).toFixed(1))).join('')}`,
  )
  const header = names.map((m) => cell(MODEL_LABELS[m] ?? m)).join('')
  return [`    ${''.padEnd(16)}${header}`, ...rows].join('\n')
}

function step(text: string) {
  console.log(`\n▸ ${text}`)
}
