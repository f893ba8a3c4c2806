import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import {
  liveLabel,
  mayChangeJourneys,
  publishedAt,
  rollbackTarget,
  type Journey,
  type JourneyModel,
  type VersionMetrics,
} from '../../models/journeys'
import { href, navigate } from '../../models/router'
import { session } from '../../models/session'
import { Badge, DenseTable, ErrorNotice, Link } from '../common'
import { count, when } from '../format'
import { rate } from './format'
import { journeyHref } from './journey'
import { MigrateRuns } from './migrate'

/** Every version: created, when it last went live, its share of new entrants now. */
export function VersionTable({
  journey,
  metrics,
  actions,
}: {
  journey: Journey
  metrics?: VersionMetrics[]
  actions?: (version: Journey['versions'][number]) => ComponentChildren
}) {
  const published = publishedAt(journey)
  const total = journey.versions.reduce((n, v) => n + v.weight, 0)
  const rows = [...journey.versions].reverse()
  return (
    <DenseTable
      items={rows}
      empty="No version saved yet."
      data-versions
      head={
        <>
          <th scope="col">Version</th>
          <th scope="col">Created</th>
          <th scope="col">Last published</th>
          <th scope="col">Live</th>
          <th scope="col" class="num">
            Entered
          </th>
          <th scope="col" class="num">
            Completion
          </th>
          <th scope="col">Changes</th>
          {actions && <th scope="col">Actions</th>}
        </>
      }
      row={(v) => {
        const figures = metrics?.find((m) => m.version === v.version)
        return (
          <tr key={v.version} data-version={v.version} data-live={v.live ? 'true' : 'false'}>
            <th scope="row">
              <Link href={href(journeyHref(journey.id), { version: String(v.version) })}>
                v{v.version}
              </Link>
            </th>
            <td class="nowrap">{when(v.createdAt)}</td>
            <td class="nowrap">{when(published.get(v.version))}</td>
            <td class="nowrap">
              {v.live ? (
                <Badge tone="ok">
                  live{total > v.weight ? ` ${Math.round((v.weight / total) * 100)}%` : ''}
                </Badge>
              ) : (
                <span class="muted">—</span>
              )}
            </td>
            <td class="num">{count(figures?.entered)}</td>
            <td class="num">{rate(figures?.completionRate)}</td>
            <td class="nowrap">
              {v.version > 1 && (
                <Link
                  href={journeyHref(journey.id, `/versions/${v.version - 1}/diff/${v.version}`)}
                >
                  vs v{v.version - 1}
                </Link>
              )}
            </td>
            {actions && <td class="nowrap">{actions(v)}</td>}
          </tr>
        )
      }}
    />
  )
}

/**
 * `/journeys/:id/versions`: publish one version, split new entrants between two, promote one of
 * a split, roll back, compare two, and move waiting runs between versions.
 */
export function JourneyVersions({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const editor = mayChangeJourneys(session.role.value)
  const { change, changing } = model
  const split = (journey.live?.length ?? 0) > 1
  return (
    <div class="stack">
      <section class="panel" aria-labelledby="all-versions-title">
        <h2 id="all-versions-title">
          Versions <span class="muted small">new entrants now: {liveLabel(journey.live)}</span>
        </h2>
        <VersionTable
          journey={journey}
          metrics={model.metrics.data.value?.versions}
          actions={
            editor
              ? (v) =>
                  v.live && !split ? (
                    <span class="muted small">live alone</span>
                  ) : (
                    <button
                      type="button"
                      class="small-button"
                      disabled={change.loading.value}
                      onClick={() => void model.publish(v.version)}
                    >
                      {v.live ? `Promote v${v.version}` : `Publish v${v.version}`}
                    </button>
                  )
              : undefined
          }
        />
        {change.error.value && changing.value?.startsWith('publish') && (
          <ErrorNotice error={change.error.value} title="Not published" />
        )}
      </section>
      <div class="two-col">
        {editor && <SplitForm model={model} journey={journey} />}
        <CompareForm journey={journey} />
      </div>
      {editor && <Rollback model={model} journey={journey} />}
      {editor && <MigrateRuns model={model} journey={journey} />}
      <History journey={journey} />
    </div>
  )
}

/** New entrants split between two versions by weight: a version against version test. */
function SplitForm({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const numbers = journey.versions.map((v) => v.version)
  const [a, setA] = useState(numbers.at(-2) ?? numbers[0] ?? 1)
  const [b, setB] = useState(numbers.at(-1) ?? 1)
  const [weightA, setWeightA] = useState(50)
  const [weightB, setWeightB] = useState(50)
  const { change, changing } = model
  if (numbers.length < 2) {
    return (
      <section class="panel">
        <h2>Split between versions</h2>
        <p class="muted small">Save a second version to split new entrants between two.</p>
      </section>
    )
  }
  const valid = a !== b && weightA > 0 && weightB > 0
  return (
    <form
      class="panel form"
      aria-labelledby="split-title"
      onSubmit={(event) => {
        event.preventDefault()
        if (valid) void model.split({ [a]: weightA, [b]: weightB })
      }}
    >
      <h2 id="split-title">Split between versions</h2>
      <div class="split-grid">
        <VersionSelect label="Version" numbers={numbers} value={a} onChange={setA} />
        <WeightInput value={weightA} onChange={setWeightA} />
        <VersionSelect label="Against version" numbers={numbers} value={b} onChange={setB} />
        <WeightInput value={weightB} onChange={setWeightB} />
      </div>
      <p class="muted small">
        {valid
          ? `New entrants: ${Math.round((weightA / (weightA + weightB)) * 100)}% v${a}, ${Math.round((weightB / (weightA + weightB)) * 100)}% v${b}. Runs in flight stay on their version.`
          : 'Pick two different versions, each with a weight.'}
      </p>
      {change.error.value && changing.value === 'split' && (
        <ErrorNotice error={change.error.value} title="Not split" />
      )}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={!valid || change.loading.value}>
          Publish the split
        </button>
      </div>
    </form>
  )
}

export function VersionSelect({
  label,
  numbers,
  value,
  onChange,
}: {
  label: string
  numbers: number[]
  value: number
  onChange: (version: number) => void
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(Number(e.currentTarget.value))}>
        {numbers.map((n) => (
          <option key={n} value={n}>
            v{n}
          </option>
        ))}
      </select>
    </label>
  )
}

function CompareForm({ journey }: { journey: Journey }) {
  const numbers = journey.versions.map((v) => v.version)
  const [a, setA] = useState(numbers.at(-2) ?? numbers[0] ?? 1)
  const [b, setB] = useState(numbers.at(-1) ?? 1)
  if (numbers.length < 2) return null
  return (
    <form
      class="panel form"
      aria-labelledby="compare-title"
      onSubmit={(event) => {
        event.preventDefault()
        navigate(journeyHref(journey.id, `/versions/${a}/diff/${b}`))
      }}
    >
      <h2 id="compare-title">What changed between two versions</h2>
      <div class="split-grid">
        <VersionSelect label="From" numbers={numbers} value={a} onChange={setA} />
        <VersionSelect label="To" numbers={numbers} value={b} onChange={setB} />
      </div>
      <div class="toolbar">
        <button type="submit" disabled={a === b}>
          Compare
        </button>
      </div>
    </form>
  )
}

/** Rollback asks first, naming the live set it returns new entrants to. */
function Rollback({ model, journey }: { model: JourneyModel; journey: Journey }) {
  const [asking, setAsking] = useState(false)
  const target = rollbackTarget(journey)
  const { change, changing } = model
  return (
    <section class="panel" aria-labelledby="rollback-title">
      <h2 id="rollback-title">Roll back</h2>
      {target ? (
        <div class="toolbar">
          <button type="button" class="danger" onClick={() => setAsking(true)}>
            Roll back to {liveLabel(target)}
          </button>
          <span class="muted small">
            New entrants go back to the live set before this one; runs in flight stay where they
            are.
          </span>
        </div>
      ) : (
        <p class="muted small">Nothing to roll back to: there is no earlier live set.</p>
      )}
      {change.error.value && changing.value === 'rollback' && (
        <ErrorNotice error={change.error.value} title="Not rolled back" />
      )}
      {asking && target && (
        <ConfirmRollback
          current={liveLabel(journey.live)}
          target={liveLabel(target)}
          busy={change.loading.value}
          onClose={() => setAsking(false)}
          onConfirm={async () => {
            await model.rollback()
            setAsking(false)
          }}
        />
      )}
    </section>
  )
}

function ConfirmRollback({
  current,
  target,
  busy,
  onClose,
  onConfirm,
}: {
  current: string
  target: string
  busy: boolean
  onClose: () => void
  onConfirm: () => void
}) {
  const dialog = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    dialog.current?.showModal()
  }, [])
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="rollback-confirm-title" onClose={onClose}>
      <h2 id="rollback-confirm-title">Roll back to {target}?</h2>
      <p>
        New entrants now take {current}. After the rollback they take <strong>{target}</strong>.
        Runs already in the journey stay on the version they are on.
      </p>
      <form method="dialog" class="toolbar">
        <button type="submit" value="cancel" autoFocus>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={onConfirm}>
          {busy ? 'Rolling back…' : `Make ${target} live`}
        </button>
      </form>
    </dialog>
  )
}

function History({ journey }: { journey: Journey }) {
  const rows = [...journey.history].reverse()
  return (
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <DenseTable
        items={rows}
        empty="Never published."
        data-history
        head={
          <>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Live after</th>
          </>
        }
        row={(entry) => (
          <tr key={entry.seq}>
            <td class="nowrap">{when(entry.at)}</td>
            <td>{entry.action}</td>
            <td>{liveLabel(entry.live)}</td>
          </tr>
        )}
      />
    </section>
  )
}

/** A path's weight in a split (the API takes 1 to 1,000,000). */
function WeightInput({ value, onChange }: { value: number; onChange: (weight: number) => void }) {
  return (
    <label>
      Weight
      <input
        type="number"
        min={1}
        max={1000000}
        value={value}
        onInput={(e) => onChange(Number(e.currentTarget.value))}
      />
    </label>
  )
}
