import { useEffect } from 'preact/hooks'
import {
  REFIT_WAIT_MS,
  candidateActions,
  fit,
  mayRefit,
  type PredictionModel,
} from '../../models/predictions'
import { session } from '../../models/session'
import { Async, Badge, DenseTable, Empty, ErrorNotice, Link } from '../common'
import { count, number, share, when } from '../format'

/** The newest fit with its parameters, the refit, and the candidate actions. */
export function ModelView() {
  useEffect(() => {
    void candidateActions.load()
  }, [])
  return (
    <div class="stack">
      <section class="panel" aria-labelledby="fit-title">
        <div class="panel-head">
          <h2 id="fit-title">Purchase model</h2>
          {mayRefit(session.role.value) && <Refit />}
        </div>
        <p class="small muted">
          Fitted on every purchaser's purchase days, counted in days: the BG/NBD says how often
          customers buy and when they stop, the Gamma-Gamma what their purchases are worth.
        </p>
        <Async req={fit.model} retry={() => void fit.load()} loadingLabel="Loading the model…">
          {(model) =>
            model === null ? (
              <Empty>
                <p data-no-fit>
                  No fit yet: nobody has bought, or no fit has run. Fits run daily, or now with
                  Refit.
                </p>
              </Empty>
            ) : (
              <FitDetails model={model} />
            )
          }
        </Async>
      </section>
      <CandidateActions />
    </div>
  )
}

function Refit() {
  const state = fit.refit.value
  const busy = state.step === 'requesting' || state.step === 'waiting'
  return (
    <div class="refit">
      <button
        type="button"
        class="primary"
        onClick={() => void fit.requestRefit()}
        disabled={busy}
        aria-describedby="refit-status"
      >
        {busy ? 'Fitting…' : 'Refit now'}
      </button>
      <span id="refit-status" role="status" class="small" data-refit={state.step}>
        {state.step === 'requesting' && 'Asking for a fit…'}
        {state.step === 'waiting' && (
          <span class="refit-waiting">
            <span class="spinner" aria-hidden="true" /> Queued; fitting in the background…
          </span>
        )}
        {state.step === 'done' && `Fitted ${when(state.fittedAt)}.`}
        {state.step === 'unchanged' &&
          `No new fit within ${REFIT_WAIT_MS / 1000} s: it may still be running, or nobody has bought.`}
      </span>
      {state.step === 'failed' && <ErrorNotice error={state.error} title="Refit refused" />}
    </div>
  )
}

function ParamRow({ name, value, meaning }: { name: string; value: number; meaning: string }) {
  return (
    <tr>
      <th scope="row" class="mono">
        {name}
      </th>
      <td class="num" data-param={name}>
        {precise(value)}
      </td>
      <td class="muted small wrap">{meaning}</td>
    </tr>
  )
}

/** Parameters span orders of magnitude: four significant digits each. */
function precise(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value)
}

function FitState({ converged, penalizer }: { converged: boolean; penalizer: number }) {
  return (
    <span class="small">
      {converged ? <Badge tone="ok">converged</Badge> : <Badge tone="bad">did not converge</Badge>}
      {penalizer > 0 && (
        <span class="muted"> penalised ({penalizer}): the plain fit ran off to infinity</span>
      )}
    </span>
  )
}

function FitDetails({ model }: { model: PredictionModel }) {
  const { bgnbd, gammaGamma } = model
  return (
    <div class="fit" data-fit={model.id}>
      <dl class="facts">
        <div>
          <dt>Fitted at</dt>
          <dd data-fitted-at>{when(model.fittedAt)}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd>{model.source === 'manual' ? 'Refit by hand' : 'Daily schedule'}</dd>
        </div>
        <div>
          <dt>Customers fitted</dt>
          <dd data-customers>{count(model.customers)}</dd>
        </div>
        <div>
          <dt>Log-likelihood</dt>
          <dd data-log-likelihood>{number(model.logLikelihood)}</dd>
        </div>
        <div>
          <dt>Horizon</dt>
          <dd>
            CLV over {model.settings.clv.months} months at {share(model.settings.clv.discountRate)}{' '}
            a month
          </dd>
        </div>
      </dl>
      <p class="small muted">
        Log-likelihood: how probable the purchases are under the fitted model; higher fits better,
        compared only between fits of the same purchases.
      </p>
      <div class="two-col">
        <div>
          <h3>
            BG/NBD <FitState converged={bgnbd.converged} penalizer={bgnbd.penalizer} />
          </h3>
          <table class="dense kv params" data-bgnbd>
            <tbody>
              <ParamRow
                name="r"
                value={bgnbd.r}
                meaning="Shape of the purchase rates across customers."
              />
              <ParamRow
                name="alpha"
                value={bgnbd.alpha}
                meaning={`Their scale, in days: a typical customer buys r/alpha = ${precise(bgnbd.r / bgnbd.alpha)} times a day while active.`}
              />
              <ParamRow
                name="a"
                value={bgnbd.a}
                meaning="With b: the chance a customer stops after each purchase."
              />
              <ParamRow
                name="b"
                value={bgnbd.b}
                meaning={`On average a/(a+b) = ${share(bgnbd.a / (bgnbd.a + bgnbd.b))} of customers stop after a purchase.`}
              />
            </tbody>
          </table>
        </div>
        <div>
          <h3>
            Gamma-Gamma{' '}
            {gammaGamma && (
              <FitState converged={gammaGamma.converged} penalizer={gammaGamma.penalizer} />
            )}
          </h3>
          {gammaGamma ? (
            <>
              <table class="dense kv params" data-gamma-gamma>
                <tbody>
                  <ParamRow
                    name="p"
                    value={gammaGamma.p}
                    meaning="Shape of the spread of one customer's purchase values."
                  />
                  <ParamRow
                    name="q"
                    value={gammaGamma.q}
                    meaning="With gamma: how average purchase values differ between customers."
                  />
                  <ParamRow
                    name="gamma"
                    value={gammaGamma.gamma}
                    meaning="Scale of those averages, in the purchases' currency."
                  />
                </tbody>
              </table>
              <p class="small muted">
                Fitted on {count(gammaGamma.customers)} repeat buyers; log-likelihood{' '}
                {number(gammaGamma.logLikelihood)}.
              </p>
            </>
          ) : (
            <Empty>
              <p data-no-gamma-gamma>
                Not fitted: it needs 20 repeat buyers with a purchase value. Until then CLV and
                expected value stay empty.
              </p>
            </Empty>
          )}
        </div>
      </div>
    </div>
  )
}

function CandidateActions() {
  return (
    <section class="panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Next-best-action candidates</h2>
      <p class="small muted">
        Each contact is offered one of these a day, chosen by Thompson sampling: actions that
        succeed more often are offered more, new ones start from their prior rate.
      </p>
      <Async
        req={candidateActions.list}
        retry={() => void candidateActions.load()}
        empty="No candidate actions: next best action stays empty for every contact."
        loadingLabel="Loading actions…"
      >
        {(actions) => (
          <DenseTable
            items={actions}
            empty=""
            data-actions
            head={
              <>
                <th scope="col">Action</th>
                <th scope="col">Offered to</th>
                <th scope="col">Success when</th>
                <th scope="col" class="num">
                  Prior rate
                </th>
                <th scope="col" class="num">
                  Outcomes
                </th>
                <th scope="col" class="num">
                  Learned rate
                </th>
              </>
            }
            row={(action) => (
              <tr key={action.id} data-action={action.id}>
                <td>
                  {action.name} <span class="muted small mono">{action.id}</span>
                </td>
                <td class="mono">
                  {action.segment ? (
                    <Link href={`/segments/${encodeURIComponent(action.segment)}`}>
                      {action.segment}
                    </Link>
                  ) : (
                    'everyone'
                  )}
                </td>
                <td>
                  <span class="mono">{action.goalEvent}</span> within {action.windowDays} days
                </td>
                <td class="num">
                  {action.priorRate === undefined ? 'none' : share(action.priorRate)}
                </td>
                <td class="num" data-outcomes>
                  {action.learned
                    ? `${count(action.learned.successes)} of ${count(action.learned.successes + action.learned.failures)}`
                    : '—'}
                </td>
                <td class="num" data-learned-rate>
                  {action.learned ? share(action.learned.rate) : '—'}
                </td>
              </tr>
            )}
          />
        )}
      </Async>
      <p class="small muted">
        Outcomes: successes of the outcomes counted. Learned rate: the prior and the outcomes
        together, the rate the sampling leans on.
      </p>
    </section>
  )
}
