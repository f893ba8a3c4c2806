import { useEffect } from 'preact/hooks'
import { fit, predictionSettings, type AtRiskModel } from '../../models/predictions'
import { Async, Link, ListFooter } from '../common'
import { contactHref } from '../contacts'
import { count, number, share, when } from '../format'
import { MEANING } from './meanings'

/** The contacts at risk, most value at risk first (the API's order), page by page. */
export function AtRiskView({ list }: { list: AtRiskModel }) {
  useEffect(() => {
    list.load()
  }, [list])
  return (
    <div class="stack">
      <AtRiskIntro />
      <div aria-busy={list.items.loading.value}>
        <Async
          req={list.items}
          retry={() => list.load()}
          empty="No contact is at risk: nobody's churn risk reaches the threshold."
          loadingLabel="Loading contacts at risk…"
        >
          {(items) => (
            <>
              <table class="dense at-risk-table">
                <thead>
                  <tr>
                    <th scope="col">Contact</th>
                    <th scope="col" class="num" title={MEANING.valueAtRisk}>
                      Value at risk
                    </th>
                    <th scope="col" class="num" title={MEANING.churnRisk}>
                      Churn risk
                    </th>
                    <th scope="col" class="num" title={MEANING.lapseRisk}>
                      Lapse risk, 90 days
                    </th>
                    <th scope="col" class="num" title={MEANING.clv}>
                      CLV
                    </th>
                    <th scope="col" class="num" title={MEANING.pAlive}>
                      P(alive)
                    </th>
                    <th scope="col" class="num" title={MEANING.engagement}>
                      Engagement
                    </th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((row) => (
                    <tr key={row.contactId} data-contact={row.contactId}>
                      <td class="mono ellipsis">
                        <Link href={contactHref(row.contactId, 'predictions')}>
                          {row.contactId}
                        </Link>
                      </td>
                      <td class="num">{number(row.value)}</td>
                      <td class="num">{share(row.churnRisk)}</td>
                      <td class="num">{row.lapseRisk === null ? '—' : share(row.lapseRisk)}</td>
                      <td class="num">{number(row.clv)}</td>
                      <td class="num">{row.pAlive === null ? '—' : share(row.pAlive)}</td>
                      <td class="num">{number(row.engagement)}</td>
                      <td class="nowrap muted">{when(row.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ListFooter shown={items.length} list={list} />
            </>
          )}
        </Async>
      </div>
    </div>
  )
}

/** What the list holds: the threshold in force, the fit its numbers come from. */
function AtRiskIntro() {
  const threshold = predictionSettings.settings.data.value?.atRiskThreshold
  const model = fit.model.data.value
  return (
    <div class="at-risk-intro">
      <p class="small">
        Contacts whose churn risk is{' '}
        {threshold === undefined ? 'at or above the threshold' : `${share(threshold)} or more`},
        sorted by value at risk (CLV × churn risk); contacts without a CLV count as 0. Scores are as
        of Updated (the last fit, or the contact's daily refresh); a contact's Predictions tab
        computes them afresh.
      </p>
      <dl class="legend-lines small muted">
        <div>
          <dt>Churn risk</dt>
          <dd>{MEANING.churnRisk}</dd>
        </div>
        <div>
          <dt>CLV</dt>
          <dd>{MEANING.clv}</dd>
        </div>
        <div>
          <dt>P(alive)</dt>
          <dd>{MEANING.pAlive}</dd>
        </div>
        <div>
          <dt>Engagement</dt>
          <dd>{MEANING.engagement}</dd>
        </div>
      </dl>
      <p class="small" data-fit-line>
        {model === null ? (
          <>
            No model fitted yet: risks come from engagement alone and CLV is empty.{' '}
            <Link href="/predictions/model">Fit the model</Link>
          </>
        ) : model ? (
          <>
            Purchase model fitted {when(model.fittedAt)} on {count(model.customers)} purchasers.{' '}
            <Link href="/predictions/model">Model</Link>
          </>
        ) : null}
      </p>
    </div>
  )
}
