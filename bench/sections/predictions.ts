import { cores } from '../api.ts'
import type { BenchConfig } from '../config.ts'
import { verdictText } from '../ingest-targets.ts'
import {
  CHURN_SCENARIO,
  measureChurn,
  pct1,
  pct4,
  type ChurnOutcome,
  type ChurnPlan,
  type ChurnRow,
} from '../predictions-churn.ts'
import { loadPredictionsDomain } from '../predictions-domain.ts'
import {
  D1_LIMITS,
  FIT_AGES,
  measureFits,
  type FitOutcome,
  type FitPlan,
} from '../predictions-fit.ts'
import { progress } from '../progress.ts'
import { int, ms, pct, table } from '../report.ts'
import type { Check, Section } from './section.ts'

/**
 * Issue #25, measured by simulation and by the clock:
 * 1. does it reduce churn? A win-back campaign on a synthetic customer base with known purchase
 *    and dropout processes, with and without the message, over a grid of thresholds and assumed
 *    response rates (predictions-churn.ts);
 * 2. fit time at 10k, 100k and 1M customers: Cairn's summaries statement over a seeded D1 as the
 *    baseline, then the fit on what it read (predictions-fit.ts).
 */

const PHASE = 'predictions'

interface Plan {
  churn: ChurnPlan
  fit: FitPlan
}

function planFor(config: BenchConfig): Plan {
  return config.quick
    ? {
        churn: { customers: 20_000, seed: config.seed },
        fit: { sizes: [10_000, 100_000], seed: config.seed },
      }
    : {
        churn: { customers: 100_000, seed: config.seed },
        fit: { sizes: [10_000, 100_000, 1_000_000], seed: config.seed },
      }
}

export const predictionsSection: Section = {
  name: 'predictions',
  async run(config) {
    const plan = planFor(config)
    progress(PHASE, 'bundling domain/predictions and edge/predictions for Node (esbuild)')
    const domain = await loadPredictionsDomain()
    const churn = measureChurn(domain, plan.churn)
    const fits = await measureFits(config, plan.fit, domain)
    return summarise(config, churn, fits)
  },
}

function summarise(config: BenchConfig, churn: ChurnOutcome, fits: FitOutcome) {
  const s = CHURN_SCENARIO
  const quoted = churn.rows.find((row) => row.quoted)!
  const quotedBreakEven = churn.breakEven.find((b) => b.threshold === s.quoted.threshold)!
  const { population } = churn
  const summary = [
    `Predictions (issue #25)${config.quick ? ` (--quick: ${int(churn.plan.customers)} simulated customers; fits at 10k and 100k only)` : ''}.`,
    `Does it reduce churn? A model, not a measurement: ${int(population.customers)} customers drawn from the BG/NBD and ` +
      `Gamma-Gamma with CDNOW's parameters (${params(s.bgnbd)}, α in days: 4.414 weeks; p ${s.gammaGamma.p}, ` +
      `q ${s.gammaGamma.q}, γ ${s.gammaGamma.gamma}), seed ${churn.plan.seed}, each observed ${s.ages.min}–${s.ages.max} ` +
      `days after their first purchase (CDNOW's cohort). There a win-back message goes to everyone whose churn risk ` +
      `(clv.ts's blend; P(alive) under the BG/NBD fitted to the observed summaries: ${params(churn.scoring)}) is at ` +
      `or above the threshold. Churn = the share of the customers alive then who drop out within ${s.horizonDays} days; ` +
      `both arms run on the same customers and random numbers, so only the message differs.`,
    `  population: ${pct(population.oneTimeBuyers / population.customers)} one-time buyers (x = 0), ` +
      `${pct(population.aliveAtObservation / population.customers)} alive at the observation point, ` +
      `${population.meanRepeatPurchases.toFixed(2)} repeat purchases on average`,
    ...table(
      gridColumns('threshold'),
      churn.rows.map((row) => gridRow(row, population.customers)),
    ).map((line) => `  ${line}`),
    '  churners reached: the share of those who churn without the message that it reached (alive and messaged); ' +
      'lift: that share ÷ the share messaged (1: no better than messaging at random). ◀: the row the README quotes.',
    `  response rate needed for a ${pct(s.promisedReduction)} reduction: ` +
      churn.breakEven
        .map(
          (b) =>
            `${thresholdLabel(b.threshold)} ${b.responseRate === null ? 'none reaches it' : b.responseRate.toFixed(3)} ` +
            `(${pct1(b.atFullResponse)} if all respond)`,
        )
        .join('; '),
    `  Targeting on lapse risk instead (the chance of dropping out within ${s.horizonDays} days, the prediction ` +
      `\`lapseRisk\`), response ${s.quoted.responseRate}; the last row messages as many customers as the quoted row:`,
    ...table(
      gridColumns('lapse risk ≥'),
      [...churn.lapseRows, churn.lapseAtQuotedVolume].map((row) =>
        gridRow(row, population.customers),
      ),
    ).map((line) => `  ${line}`),
    ...whyLines(churn, quoted),
    '  What it shows: how much of the churn the targeting reaches, and what reduction follows if customers behave as ' +
      'the BG/NBD says and respond at the stated rate. What it does not show: that real customers respond at that ' +
      'rate (the response rate is an input, not a measurement: only an experiment on real customers measures it), ' +
      'any effect on customers already gone, the cost of messaging, or fatigue.',
    `  Assumptions (the quoted row's, as simulateWinBack states them; the grid changes only the threshold and the response rate):`,
    ...churn.assumptions.map((line) => `    - ${line}`),
    `  simulation and grid took ${churn.seconds.toFixed(0)} s`,
    '',
    ...fitLines(fits),
  ]

  const checks: Check[] = [
    {
      name:
        `churn reduction at the quoted row (threshold ${s.quoted.threshold}, assumed response ` +
        `${s.quoted.responseRate}) ≥ ${pct(s.promisedReduction)}, the requirements' promise (a model's figure)`,
      ok: quoted.relativeReduction >= s.promisedReduction,
      detail:
        `${pct1(quoted.relativeReduction)} (churn ${pct4(quoted.control.churnRate)} → ${pct4(quoted.treatment.churnRate)}); ` +
        `${verdictText(quoted.relativeReduction >= s.promisedReduction)}; needs an assumed response of ` +
        `${quotedBreakEven.responseRate?.toFixed(3) ?? 'more than 1'} at this threshold`,
    },
    {
      name:
        `churn reduction targeting on lapse risk, messaging as many as the quoted row (assumed response ` +
        `${s.quoted.responseRate}) ≥ ${pct(s.promisedReduction)} (a model's figure)`,
      ok: churn.lapseAtQuotedVolume.relativeReduction >= s.promisedReduction,
      detail:
        `${pct1(churn.lapseAtQuotedVolume.relativeReduction)} messaging ${int(churn.lapseAtQuotedVolume.messaged)} ` +
        `(lapse risk ≥ ${churn.lapseAtQuotedVolume.threshold.toFixed(4)}), against ${pct1(quoted.relativeReduction)} ` +
        `messaging ${int(quoted.messaged)} on churn risk`,
    },
    ...fits.timings.map((t) => ({
      name: `summaries statement at ${int(t.customers)} customers answers every seeded purchaser once`,
      ok: t.summaryRows === t.customers,
      detail: `${int(t.summaryRows)} rows`,
    })),
    ...fits.timings.map((t) => ({
      name:
        `summaries at ${int(t.customers)} customers within D1's documented limits ` +
        `(result ≤ ${D1_LIMITS.resultBytes / 1e6} MB, query ≤ ${D1_LIMITS.queryMs / 1000} s; the local D1 enforces neither)`,
      ok: t.resultBytes <= D1_LIMITS.resultBytes && t.sqliteOnly.median <= D1_LIMITS.queryMs,
      detail:
        `${(t.resultBytes / 1e6).toFixed(1)} MB as JSON, ${(t.sqliteOnly.median / 1000).toFixed(1)} s in SQLite ` +
        `on this machine`,
    })),
    {
      name: `fit timings at every size (${fits.plan.sizes.map(int).join(', ')} customers)`,
      ok: fits.failed === undefined,
      detail: fits.failed
        ? `${int(fits.failed.customers)} customers failed: ${fits.failed.error}`
        : `${fits.timings.length} sizes`,
    },
    {
      name: 'every fit converged (BG/NBD and Gamma-Gamma)',
      ok: fits.timings.every((t) => t.bgnbd.converged && t.gammaGamma?.converged === true),
      detail: fits.timings
        .map(
          (t) =>
            `${int(t.customers)}: ${fitState(t.bgnbd)} / ${t.gammaGamma ? fitState(t.gammaGamma) : 'not fitted'}`,
        )
        .join(', '),
    },
  ]
  return { summary, checks, data: { churn, fits } }
}

/** The columns gridRow fills, after the score's threshold. */
function gridColumns(threshold: string): string[] {
  return [
    threshold,
    'messaged',
    'churners reached',
    'lift',
    'response rate',
    'churn without',
    'churn with',
    'reduction',
    `≥ ${pct(CHURN_SCENARIO.promisedReduction)}`,
    '',
  ]
}

function gridRow(row: ChurnRow, customers: number): string[] {
  const met = row.relativeReduction >= CHURN_SCENARIO.promisedReduction
  return [
    thresholdLabel(row.threshold),
    pct(row.messaged / customers),
    pct(row.churnersReached),
    row.lift.toFixed(2),
    String(row.responseRate),
    pct4(row.control.churnRate),
    pct4(row.treatment.churnRate),
    pct1(row.relativeReduction),
    met ? 'met' : 'no',
    row.quoted ? '◀' : '',
  ]
}

function fitState(fit: { converged: boolean; penalizer: number }): string {
  return (fit.converged ? 'yes' : 'NO') + (fit.penalizer > 0 ? ` (penalizer ${fit.penalizer})` : '')
}

function thresholdLabel(threshold: number): string {
  if (threshold === 0) return 'everyone (0)'
  // An equal-volume threshold is some score's value, not a round number.
  return Number(threshold.toFixed(4)) === threshold ? String(threshold) : threshold.toFixed(4)
}

/**
 * Why the threshold barely narrows the campaign, and why the lift is what it is, from this run's
 * figures.
 */
function whyLines(churn: ChurnOutcome, quoted: ChurnRow): string[] {
  const { population } = churn
  const lines = [
    `  Why so many are messaged: engagement here comes from purchases alone (no page views are simulated), and ` +
      `${pct(population.oneTimeBuyers / population.customers)} bought once, ${CHURN_SCENARIO.ages.min} days or more ` +
      `before, so their engagement has decayed to about 0 (half-life 14 days) and, with x = 0, their risk is ` +
      `1 − engagement/100 ≈ 1: they are at risk at any threshold below 1. The threshold only sorts the repeat buyers.`,
  ]
  if (quoted.lift < 1) {
    lines.push(
      `  Why the lift is below 1: under the BG/NBD a customer drops out only right after a purchase, so those who ` +
        `churn within ${CHURN_SCENARIO.horizonDays} days are those who buy in them, the active ones; churn risk ` +
        `(1 − P(alive), or faded engagement) is high for those who have probably gone already or buy rarely, whom ` +
        `the message cannot help. At the quoted threshold the message reaches ${pct(quoted.churnersReached)} of the ` +
        `churners while going to ${pct(quoted.messaged / population.customers)} of customers.`,
    )
  }
  return lines
}

function fitLines(fits: FitOutcome): string[] {
  const largest = fits.timings.at(-1)
  return [
    `Fit time: one "Order Completed" track event per purchase (properties.revenue) of customers drawn as above but ` +
      `${FIT_AGES.min}–${FIT_AGES.max} days old (seed ${fits.plan.seed}), written straight into a local D1. ` +
      `summaries = Cairn's statement (edge/predictions/summaries.ts, purchases grouped by UTC day) through the bench's ` +
      `D1 reader, from request to rows parsed in Node (the reader's HTTP and JSON hop included); fit = ` +
      `fitPurchaseModels (BG/NBD on every purchaser, Gamma-Gamma on the repeat buyers) on those rows, in Node: in ` +
      `production it runs in the events queue's consumer, in workerd, the same V8 running the same pure code. ` +
      `Median and p95 of the repetitions after one unmeasured (ms); in SQLite: the median of the same statement ` +
      `counted in SQLite (SELECT count(*) FROM (…)), without sending its rows; result MB: the rows as JSON ` +
      `(contact keys of 11 characters here); groups: distinct (x, tx, T), what one likelihood ` +
      `evaluation costs; other: cores used by other processes meanwhile.`,
    ...table(
      [
        'customers',
        'events',
        'summaries',
        'p95',
        'in SQLite',
        'result MB',
        'fit',
        'p95',
        'fit ÷ summaries',
        'groups',
        'BG/NBD iterations',
        'Gamma-Gamma buyers',
        'reps',
        'other',
      ],
      fits.timings.map((t) => [
        int(t.customers),
        int(t.seeded.events),
        ms(t.summaries.median),
        ms(t.summaries.p95),
        ms(t.sqliteOnly.median),
        (t.resultBytes / 1e6).toFixed(1),
        ms(t.fit.median),
        ms(t.fit.p95),
        `${(t.fit.median / t.summaries.median).toFixed(2)}x`,
        int(t.bgnbd.groups),
        String(t.bgnbd.iterations),
        int(t.gammaGamma?.customers ?? 0),
        String(t.repetitions),
        `${cores(t.cpu.summaries.other)} / ${cores(t.cpu.fit.other)}`,
      ]),
    ).map((line) => `  ${line}`),
    ...fits.timings
      .filter((t) => t.resets.length > 0)
      .map(
        (t) =>
          `  at ${int(t.customers)}: ${t.resets.length} read(s) made again after a reset connection (${t.resets.join('; ')}); timed from the attempt that succeeded`,
      ),
    ...(largest
      ? [
          `  fitted at ${int(largest.customers)}: BG/NBD ${params(largest.bgnbd.params)}` +
            (largest.gammaGamma
              ? `; Gamma-Gamma p ${largest.gammaGamma.params.p.toFixed(2)}, q ${largest.gammaGamma.params.q.toFixed(2)}, γ ${largest.gammaGamma.params.gamma.toFixed(2)}`
              : ''),
          ...(fits.queryPlan.length > 0
            ? [
                `  summaries statement's plan at ${int(largest.customers)} customers (EXPLAIN QUERY PLAN):`,
                ...fits.queryPlan.map((line) => `    ${line}`),
              ]
            : []),
        ]
      : []),
    ...(fits.failed
      ? [
          `  ${int(fits.failed.customers)} customers: failed (${fits.failed.error}); larger sizes not tried`,
        ]
      : []),
  ]
}

function params(p: { r: number; alpha: number; a: number; b: number }): string {
  return `r ${p.r.toFixed(3)}, α ${p.alpha.toFixed(2)}, a ${p.a.toFixed(3)}, b ${p.b.toFixed(3)}`
}
