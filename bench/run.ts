import { startWatchdog } from './watchdog.ts'
import { readConfig } from './config.ts'
import { elapsed, progress } from './progress.ts'
import { environment, verdict, writeResults } from './report.ts'
import { bundleSection } from './sections/bundle.ts'
import { ingestSection } from './sections/ingest.ts'
import { profileSection } from './sections/profile.ts'
import { trackerSection } from './sections/tracker.ts'
import { privacySection } from './sections/privacy.ts'
import { attributionSection } from './sections/attribution.ts'
import { consumerSection } from './sections/consumer.ts'
import { segmentsSection } from './sections/segments.ts'
import { messagingSection } from './sections/messaging.ts'
import { predictionsSection } from './sections/predictions.ts'
import { journeysSection } from './sections/journeys.ts'
import type { Check, Section } from './sections/section.ts'

/**
 * `npm run bench`: builds the Worker as a deploy would, then runs each section and prints one
 * summary. Everything targets 127.0.0.1, every loop is bounded, and the whole run has a hard cap.
 * Add a benchmark by writing a Section and listing it here.
 */
const SECTIONS: Section[] = [
  bundleSection,
  ingestSection,
  profileSection,
  trackerSection,
  privacySection,
  attributionSection,
  consumerSection,
  segmentsSection,
  messagingSection,
  predictionsSection,
  journeysSection,
]

const config = readConfig(process.argv.slice(2), process.env)
const sections = SECTIONS.filter((s) => (config.sections as string[]).includes(s.name))
const env = environment()

startWatchdog(config.maxMinutes)

progress(
  'bench',
  `${config.quick ? 'quick run' : 'full run'}: node ${env.node}, miniflare ${env.miniflare} ` +
    `(workerd ${env.workerd}), ${env.cpus} CPUs, state ${config.stateDir ?? 'in memory'}`,
)

const results: Record<string, unknown> = { environment: env, config }
const summaries: string[] = []
const checks: (Check & { section: string })[] = []
for (const section of sections) {
  try {
    const outcome = await section.run(config)
    results[section.name] = outcome.data
    summaries.push(...outcome.summary, '')
    checks.push(...outcome.checks.map((c) => ({ ...c, section: section.name })))
  } catch (error) {
    const message = (error as Error).stack ?? String(error)
    progress(section.name, `failed: ${message}`)
    results[section.name] = { error: message }
    checks.push({
      section: section.name,
      name: `${section.name} ran`,
      ok: false,
      detail: message.split('\n')[0]!,
    })
  }
}
results.checks = checks
writeResults(config.resultsPath, results)

const out = [
  '',
  `Cairn bench — ${env.date}, ${env.cpus}× ${env.cpuModel}, node ${env.node}, miniflare ${env.miniflare}, ` +
    `took ${elapsed()}${config.quick ? ' (--quick: short runs, figures are indicative only)' : ''}`,
  '',
  ...summaries,
  'Targets',
  ...checks.map((c) => `  [${verdict(c.ok).padEnd(3)}] ${c.name}: ${c.detail}`),
  '',
  `Full results: ${config.resultsPath}`,
]
console.log(out.join('\n'))
// Sockets of finished runs may linger in keep-alive; the results are written, so leave now.
process.exit(0)
