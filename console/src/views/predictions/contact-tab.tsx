import { useEffect } from 'preact/hooks'
import type { ContactModel } from '../../models/contacts'
import type { ContactPredictions } from '../../models/predictions'
import { Async, Badge, ErrorNotice, Loading } from '../common'
import { number, share, when } from '../format'
import { MEANING } from './meanings'

/** A figure with its one-line meaning, as rows of a key/value table. */
function Figure({ label, value, meaning }: { label: string; value: string; meaning: string }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td class="num nowrap" data-figure={label}>
        {value}
      </td>
      <td class="muted small wrap">{meaning}</td>
    </tr>
  )
}

function ratio(n: number | null) {
  return n === null ? '—' : share(n)
}

/** The contact screen's Predictions tab: the scores, the next best action, the explanation. */
export function ContactPredictionsTab({ contact }: { contact: ContactModel }) {
  useEffect(() => {
    void contact.loadPredictions()
  }, [contact])
  return (
    <Async
      req={contact.predictions}
      retry={() => void contact.loadPredictions()}
      loadingLabel="Computing predictions…"
    >
      {(scores) => (
        <div class="wide-narrow">
          <Scores scores={scores} />
          <Explanation contact={contact} />
        </div>
      )}
    </Async>
  )
}

function Scores({ scores }: { scores: ContactPredictions }) {
  const { days30, days90 } = scores.expectedPurchases
  return (
    <section class="panel" aria-labelledby="contact-scores-title">
      <h2 id="contact-scores-title">Scores</h2>
      {scores.fittedAt === null && (
        <p class="notice small" data-no-fit>
          No purchase model has been fitted yet: only engagement and the churn risk it gives are
          known.
        </p>
      )}
      {scores.fittedAt !== null && scores.pAlive === null && (
        <p class="muted small" data-no-purchase>
          No purchase recorded: the purchase model says nothing about this contact yet.
        </p>
      )}
      <table class="dense kv" data-contact-predictions>
        <tbody>
          <Figure label="Churn risk" value={share(scores.churnRisk)} meaning={MEANING.churnRisk} />
          <Figure label="P(alive)" value={ratio(scores.pAlive)} meaning={MEANING.pAlive} />
          <Figure
            label="Lapse risk, 90 days"
            value={ratio(scores.lapseRisk)}
            meaning={MEANING.lapseRisk}
          />
          <Figure
            label="Engagement"
            value={number(scores.engagement)}
            meaning={MEANING.engagement}
          />
          <Figure
            label="Expected purchases"
            value={`${number(days30)} / ${number(days90)}`}
            meaning={MEANING.expectedPurchases}
          />
          <Figure
            label="Expected value"
            value={number(scores.expectedValue)}
            meaning={MEANING.expectedValue}
          />
          <Figure label="CLV" value={number(scores.clv)} meaning={MEANING.clv} />
          <tr>
            <th scope="row">Next best action</th>
            <td class="nowrap" data-next-action>
              {scores.nextBestAction ? (
                <Badge tone="ok">{scores.nextBestAction}</Badge>
              ) : (
                <span class="muted">none</span>
              )}
            </td>
            <td class="muted small wrap">
              {scores.nextBestAction
                ? MEANING.nextBestAction
                : 'No candidate action applies to this contact.'}
            </td>
          </tr>
          <Figure label="Fitted at" value={when(scores.fittedAt)} meaning={MEANING.fittedAt} />
        </tbody>
      </table>
    </section>
  )
}

function Explanation({ contact }: { contact: ContactModel }) {
  const { explanation } = contact
  const answer = explanation.data.value
  const error = explanation.error.value
  return (
    <section class="panel" aria-labelledby="explanation-title">
      <h2 id="explanation-title">Why this churn risk</h2>
      {answer && (
        <div data-explanation={answer.source}>
          <p class="wrap">{answer.text}</p>
          <p class="muted small">
            {answer.source === 'ai'
              ? 'Written by Workers AI from these numbers only; it was not told who the contact is.'
              : 'Written by rules from these numbers: Workers AI is not bound to this deployment, or did not answer.'}
          </p>
        </div>
      )}
      {error && <ErrorNotice error={error} title="No explanation" />}
      {explanation.loading.value ? (
        <Loading label="Explaining…" />
      ) : (
        <button type="button" onClick={() => void contact.explain()}>
          {answer ? 'Explain again' : 'Explain this risk'}
        </button>
      )}
    </section>
  )
}
