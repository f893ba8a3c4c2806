import { useEffect } from 'preact/hooks'
import {
  offset,
  parseScript,
  simulationSteps,
  type SimulationStep,
} from '../../models/journey-script'
import { simulator } from '../../models/journey-simulator'
import type { Journey, JourneyModel, Simulation } from '../../models/journeys'
import { route, setQuery } from '../../models/router'
import { Async, Badge, ErrorNotice, Loading } from '../common'
import { when } from '../format'
import JourneyCanvas from './canvas'
import { DurationInput } from './duration'
import { json } from './format'
import { VersionSelect } from './versions'

/**
 * `/journeys/:id/simulate[?version=N&script=…&step=K]`: a made-up contact and scripted events
 * run through a version on a simulated clock; the trace is listed step by step and the current
 * step's node is lit on the graph. Nothing is sent. The script is kept in the URL, so a reload
 * or a shared link runs the same simulation.
 */
export function JourneySimulator({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const numbers = journey.versions.map((v) => v.version)
  const asked = Number(route.query.value.get('version'))
  const version = numbers.includes(asked) ? asked : numbers.at(-1)
  const scripted = route.query.value.get('script')
  useEffect(() => {
    if (version !== undefined) model.loadVersion(version)
  }, [model, version])
  useEffect(() => {
    const script = scripted && parseScript(scripted)
    if (!script || version === undefined || simulator.ran.peek() === `${version}:${scripted}`) {
      return
    }
    simulator.load(script)
    run(version, scripted)
  }, [model, version, scripted])

  function run(version: number, text: string) {
    const input = simulator.input()
    if (!input) return
    simulator.ran.value = `${version}:${text}`
    void model.simulate({ version, ...input })
  }

  if (version === undefined) {
    return <p class="muted">Save a version first: the simulator runs a saved version.</p>
  }
  const { simulation } = model
  const result = simulation.data.value
  const steps = result ? simulationSteps(result) : []
  const askedStep = Number(route.query.value.get('step'))
  const current = Math.min(
    Math.max(0, Number.isFinite(askedStep) ? askedStep : 0),
    steps.length - 1,
  )
  const step = steps[current]
  const go = (index: number) =>
    setQuery({ ...Object.fromEntries(route.query.value), step: String(index) })
  return (
    <div class="simulator-layout">
      <div class="stack">
        <details class="panel script-details" open={!result}>
          <summary>
            Script{' '}
            <span class="muted small">
              {simulator.script.value.events.length} event
              {simulator.script.value.events.length === 1 ? '' : 's'} on v{version}
            </span>
          </summary>
          <ScriptForm
            numbers={numbers}
            version={version}
            busy={simulation.loading.value}
            onRun={() => {
              const text = JSON.stringify(simulator.script.value)
              run(version, text)
              setQuery({ version: String(version), script: text, step: '0' })
            }}
          />
        </details>
        {simulation.error.value && (
          <ErrorNotice error={simulation.error.value} title="The simulation did not run" />
        )}
        {simulation.loading.value && <Loading label="Simulating…" />}
        {result ? (
          <TraceList simulation={result} steps={steps} current={current} onSelect={go} />
        ) : (
          <p class="muted">Write a script and run it: each step shows here and on the graph.</p>
        )}
      </div>
      <div class="stack">
        <section class="panel" aria-labelledby="step-graph-title">
          <div class="graph-head">
            <h2 id="step-graph-title">
              {step ? (
                <>
                  Step {current + 1} of {steps.length}: <span class="mono">{step.node}</span>
                </>
              ) : (
                `Version ${version}`
              )}
            </h2>
            {result && (
              <div class="toolbar" role="group" aria-label="Step through">
                <button type="button" disabled={current <= 0} onClick={() => go(current - 1)}>
                  Previous step
                </button>
                <button
                  type="button"
                  disabled={current >= steps.length - 1}
                  onClick={() => go(current + 1)}
                >
                  Next step
                </button>
              </div>
            )}
          </div>
          <Async req={model.version(version)} loadingLabel="Loading graph…">
            {(saved) => (
              <JourneyCanvas
                definition={saved.definition}
                editable={false}
                highlight={step ? [step.node] : []}
              />
            )}
          </Async>
        </section>
        {step && <StepDetail step={step} />}
      </div>
    </div>
  )
}

function ScriptForm({
  numbers,
  version,
  busy,
  onRun,
}: {
  numbers: number[]
  version: number
  busy: boolean
  onRun: () => void
}) {
  const script = simulator.script.value
  const errors = simulator.errors.value
  return (
    <form
      class="panel form simulator-script"
      aria-label="Simulation script"
      onSubmit={(event) => {
        event.preventDefault()
        onRun()
      }}
    >
      <VersionSelect
        label="Version"
        numbers={numbers}
        value={version}
        onChange={(n) => setQuery({ version: String(n) })}
      />
      <label>
        Contact traits (JSON)
        <textarea
          class="json-input"
          rows={4}
          spellcheck={false}
          value={script.traits}
          onInput={(e) => simulator.change({ traits: e.currentTarget.value })}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          checked={script.marketing}
          onChange={(e) => simulator.change({ marketing: e.currentTarget.checked })}
        />
        Agreed to marketing
      </label>
      <fieldset>
        <legend>Events, each after a time from the start</legend>
        <ol class="scripted-events">
          {script.events.map((e, i) => (
            <li key={i} data-event={i}>
              <label>
                Event
                <input
                  value={e.event}
                  placeholder="Product Added"
                  onInput={(ev) => simulator.setEvent(i, { event: ev.currentTarget.value })}
                />
              </label>
              <label>
                Properties (JSON)
                <input
                  class="mono"
                  value={e.properties}
                  placeholder='{"name": "Boots"}'
                  onInput={(ev) => simulator.setEvent(i, { properties: ev.currentTarget.value })}
                />
              </label>
              <DurationInput
                label={`Event ${i + 1} after`}
                value={e.after}
                onChange={(after) => simulator.setEvent(i, { after })}
              />
              <button
                type="button"
                class="link-button small"
                onClick={() => simulator.removeEvent(i)}
              >
                Remove event {i + 1}
              </button>
            </li>
          ))}
        </ol>
        <button type="button" onClick={() => simulator.addEvent()}>
          Add event
        </button>
      </fieldset>
      <DurationInput
        label="Watch until"
        value={script.until}
        onChange={(until) => simulator.change({ until })}
      />
      {errors.length > 0 && (
        <ul class="bad-text small" role="alert">
          {errors.map((error) => (
            <li key={error}>{error}</li>
          ))}
        </ul>
      )}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Running…' : 'Run simulation'}
        </button>
      </div>
    </form>
  )
}

function TraceList({
  simulation,
  steps,
  current,
  onSelect,
}: {
  simulation: Simulation
  steps: SimulationStep[]
  current: number
  onSelect: (index: number) => void
}) {
  const start = steps[0]?.at ?? ''
  const run = simulation.run
  return (
    <section class="panel" aria-labelledby="trace-title">
      <h2 id="trace-title">
        Trace{' '}
        <span class="muted small">
          {!simulation.entered
            ? `never entered: ${simulation.reason ?? 'no entry matched'}`
            : run
              ? `${run.state === 'active' ? 'still waiting at the end' : run.state}${run.converted ? ', converted' : ''}${run.reason ? ` (${run.reason})` : ''}`
              : ''}
        </span>
      </h2>
      <ol class="trace" data-trace>
        {steps.map((step, i) => (
          <li
            key={i}
            class={i === current ? 'trace-step current' : 'trace-step'}
            data-step={i}
            data-node={step.node}
          >
            <button
              type="button"
              class="trace-head"
              aria-current={i === current ? 'step' : undefined}
              onClick={() => onSelect(i)}
            >
              <span class="trace-when" title={when(step.at)}>
                {offset(step.at, start)}
              </span>
              <span class="mono">{step.node}</span>
              <span class="trace-why">{step.outcome}</span>
            </button>
            {step.emails.map((email, j) => (
              <p class="would-send small" key={j} data-would-send={email.template}>
                <Badge tone="ok">would send</Badge>{' '}
                <span class="email-subject">
                  {email.error ? `would not render: ${email.error}` : (email.subject ?? '')}
                </span>
              </p>
            ))}
            {step.effects.map((effect, j) => (
              <p class="would-do small" key={j}>
                <Badge>would {effect.kind}</Badge>
              </p>
            ))}
          </li>
        ))}
      </ol>
    </section>
  )
}

/** The current step: why it happened, and what its node would have sent or done. */
function StepDetail({ step }: { step: SimulationStep }) {
  return (
    <section class="panel step-detail" aria-labelledby="step-detail-title">
      <h2 id="step-detail-title">
        <span class="mono">{step.node}</span> <span class="muted">{step.type}</span> at{' '}
        {when(step.at)}
      </h2>
      <p>
        {step.outcome}
        {step.next && <span class="muted"> → {step.next}</span>}
      </p>
      {step.emails.map((email, i) => (
        <div key={i} data-email={email.template}>
          <h4>
            Would send <span class="mono">{email.template}</span>
            {email.subscriptionGroup ? ` · ${email.subscriptionGroup}` : ''}
          </h4>
          {email.error ? (
            <p class="bad-text">Would not render: {email.error}</p>
          ) : (
            <>
              <p class="email-subject">{email.subject ?? ''}</p>
              <div class="email-parts">
                <div>
                  <h4>HTML part</h4>
                  {/* Rendered from the template with made-up traits and events: untrusted, so
                      only a document of its own with every sandbox permission taken away. */}
                  <iframe
                    sandbox=""
                    srcdoc={email.html ?? ''}
                    class="email-html"
                    title={`HTML of ${email.template}`}
                    referrerpolicy="no-referrer"
                  />
                </div>
                <div>
                  <h4>Text part</h4>
                  <pre class="email-text">{email.text ?? ''}</pre>
                </div>
              </div>
            </>
          )}
        </div>
      ))}
      {step.effects.map((effect, i) => {
        const { kind, node: _node, at: _at, ...rest } = effect
        return (
          <p key={i} class="small">
            <Badge>would {kind}</Badge> <code>{json(rest)}</code>
          </p>
        )
      })}
    </section>
  )
}
