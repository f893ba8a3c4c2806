import { useEffect } from 'preact/hooks'
import {
  attribution,
  intervalOf,
  MODELS,
  type Comparison,
  type ModelId,
} from '../models/attribution'
import { periodFrom } from '../models/period'
import { route, setQuery } from '../models/router'
import { Async, Empty, PageHeader, PeriodPicker } from './common'
import { count, day, number, share, when } from './format'

const PROBABILISTIC: ModelId[] = ['markov', 'shapley']

export function AttributionScreen() {
  const period = periodFrom(route.query.value)
  useEffect(() => {
    attribution.show(period)
  }, [period.from, period.to])

  return (
    <>
      <PageHeader title="Attribution">
        <PeriodPicker
          period={period}
          onChange={(next) => setQuery({ from: next.from, to: next.to })}
        />
      </PageHeader>
      <Async
        req={attribution.comparison}
        retry={() => {
          attribution.comparison.reset()
          attribution.show(period)
        }}
        errorTitle={(error) =>
          error.status === 404
            ? 'Attribution is not available on this server yet'
            : 'Attribution could not be computed'
        }
        loadingLabel="Computing every model…"
      >
        {(comparison) => <ComparisonView comparison={comparison} />}
      </Async>
    </>
  )
}

function ComparisonView({ comparison }: { comparison: Comparison }) {
  const channels = attribution.channels.value
  const measure = attribution.measure.value
  const totals = attribution.modelTotals.value
  const models = MODELS.filter((m) => comparison.models[m.id])
  const levelValue = comparison.intervals?.level
  const level = levelValue ? share(levelValue) : 'Bootstrap'
  return (
    <div class="stack">
      <div class="attribution-top">
        <Confidence comparison={comparison} />
        <div class="segmented" role="group" aria-label="Measure">
          <button
            type="button"
            aria-pressed={measure === 'conversions'}
            onClick={() => attribution.setMeasure('conversions')}
          >
            Conversions
          </button>
          <button
            type="button"
            aria-pressed={measure === 'value'}
            onClick={() => attribution.setMeasure('value')}
          >
            Value
          </button>
        </div>
      </div>
      {channels.length === 0 ? (
        <Empty>No conversions in this period, so no channel has credit to share.</Empty>
      ) : (
        <div class="table-scroll">
          <table class="dense attribution-table">
            <caption class="sr-only">
              Credit per channel under each attribution model, {measure}
            </caption>
            <thead>
              <tr>
                <th scope="col">Channel</th>
                {models.map((m) => (
                  <th key={m.id} scope="col" class="num">
                    {m.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {channels.map((channel) => (
                <tr key={channel}>
                  <th scope="row">{channel}</th>
                  {models.map((m) => {
                    const credit = comparison.models[m.id]?.[channel]
                    const value = credit?.[measure] ?? 0
                    const total = totals[m.id] || 0
                    const interval = PROBABILISTIC.includes(m.id)
                      ? intervalOf(comparison, m.id, channel, measure)
                      : undefined
                    return (
                      <td key={m.id} class="num credit">
                        <span
                          class="share-bar"
                          style={{ width: `${total ? (value / total) * 100 : 0}%` }}
                          aria-hidden="true"
                        />
                        <span class="credit-value">{credit ? number(value) : '—'}</span>
                        {interval && (
                          <span
                            class="interval"
                            title={
                              interval.kind === 'share'
                                ? `${level} interval of the channel's share of ${m.label} credit`
                                : `${level} interval`
                            }
                          >
                            {interval.kind === 'share'
                              ? `${share(interval.low)}–${share(interval.high)}`
                              : `${number(interval.low)}–${number(interval.high)}`}
                          </span>
                        )}
                      </td>
                    )
                  })}
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                {models.map((m) => (
                  <td key={m.id} class="num">
                    {number(totals[m.id] ?? 0)}
                  </td>
                ))}
              </tr>
            </tfoot>
          </table>
        </div>
      )}
      <p class="muted small">
        Rule-based models (first, last, last non-direct, linear, time decay, position) split each
        conversion by fixed rules; Markov and Shapley are data-driven
        {comparison.intervals
          ? ` and show the ${level.toLowerCase()} interval of each channel's share beneath the credit`
          : ''}
        . Bars show each channel's share within its model.{' '}
        {comparison.fit
          ? `Data-driven models fitted ${when(comparison.fit.fittedAt)} on ${count(comparison.fit.paths)} journeys (${day(comparison.fit.from)} – ${day(comparison.fit.to)}).`
          : 'The data-driven models have not been fitted yet, so they have no intervals.'}
      </p>
    </div>
  )
}

function Confidence({ comparison }: { comparison: Comparison }) {
  const confidence = comparison.confidence
  if (!confidence) return <div class="panel confidence muted">No confidence score reported.</div>
  const score = confidence.score
  const ratio = score !== null && score <= 1 ? score : undefined
  const byConversions = confidence.basis === 'conversions'
  const part = byConversions ? confidence.deterministicConversions : confidence.deterministicValue
  const whole = byConversions ? confidence.conversions : (confidence.totalValue ?? confidence.value)
  return (
    <section class="panel confidence" aria-label="Confidence">
      <div>
        <div class="kpi-label">Confidence</div>
        <div class="kpi-value" data-confidence>
          {score === null ? '—' : ratio !== undefined ? share(ratio) : number(score)}
        </div>
      </div>
      {ratio !== undefined && (
        <meter
          min={0}
          max={1}
          low={0.4}
          high={0.7}
          optimum={1}
          value={ratio}
          aria-label="Confidence score"
        />
      )}
      <p class="small">
        {score === null
          ? 'Nothing converted in this period, so there is nothing to be sure about.'
          : `${number(part)} of ${number(whole)} ${byConversions ? 'conversions' : 'conversion value'} came through fully deterministic paths (every touch tied to the person by a first-party id).`}
      </p>
    </section>
  )
}
