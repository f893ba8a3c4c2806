import { useState } from 'preact/hooks'
import { may } from '../../models/access'
import { kpis, spendIssues, type SpendList } from '../../models/kpis'
import { session } from '../../models/session'
import { Async, DenseTable, ErrorNotice } from '../common'
import { day } from '../format'
import { figure } from './format'

const EXAMPLE = 'channel,day,amount,currency\npaid_search,2026-11-24,1250.00,EUR'

/** Spend import (paste CSV or choose a file) and the spend kept for the period. */
export function SpendPanel() {
  return (
    <div class="kpi-spend">
      {may(session.role.value, 'importSpend') && <SpendImport />}
      <section class="panel" aria-labelledby="spend-kept-title">
        <h2 id="spend-kept-title">Spend in the period</h2>
        <Async req={kpis.spend} retry={() => void kpis.refresh()}>
          {(list) => <SpendTotals list={list} />}
        </Async>
      </section>
    </div>
  )
}

function SpendImport() {
  const [csv, setCsv] = useState('')
  const [fileNote, setFileNote] = useState('')
  const result = kpis.importing.data.value
  const error = kpis.importing.error.value
  const busy = kpis.importing.loading.value
  const problems = spendIssues(error)
  return (
    <section class="panel" aria-labelledby="spend-import-title">
      <h2 id="spend-import-title">Import spend</h2>
      <p class="muted small">
        CSV with the columns <code>channel</code>, <code>day</code> (UTC, YYYY-MM-DD) and{' '}
        <code>amount</code>, optionally <code>currency</code>; other columns are ignored. Channels
        are the attribution channels. Rows of one channel and day add up; importing a channel and
        day again replaces it. Nothing is stored if any row is wrong.
      </p>
      <form
        class="form"
        onSubmit={(event) => {
          event.preventDefault()
          void kpis.importSpend(csv)
        }}
      >
        <label>
          CSV file
          <input
            type="file"
            accept=".csv,text/csv,text/plain"
            onChange={async (event) => {
              const file = event.currentTarget.files?.[0]
              if (!file) return
              setCsv(await file.text())
              setFileNote(`${file.name} loaded below; check it, then import.`)
            }}
          />
        </label>
        <span class="muted small" aria-live="polite">
          {fileNote}
        </span>
        <label>
          CSV text
          <textarea
            class="mono spend-csv"
            rows={6}
            required
            spellcheck={false}
            placeholder={EXAMPLE}
            value={csv}
            onInput={(e) => setCsv(e.currentTarget.value)}
          />
        </label>
        <div class="toolbar">
          <button type="submit" class="button primary" disabled={busy || csv.trim() === ''}>
            {busy ? 'Importing…' : 'Import'}
          </button>
          <span class="small" aria-live="polite" data-import-result>
            {result
              ? `Stored ${figure(result.stored)} channel-days from ${figure(result.received)} rows (${figure(result.replaced)} replaced), ${day(result.from)} – ${day(result.to)}: ${result.channels.join(', ')}`
              : ''}
          </span>
        </div>
      </form>
      {error && (
        <div class="spend-errors">
          <ErrorNotice error={error} title="Nothing was imported" />
          {problems.issues.length > 0 && (
            <table class="dense spend-issues" aria-label="Problems in the import">
              <thead>
                <tr>
                  <th scope="col">Where</th>
                  <th scope="col">Problem</th>
                </tr>
              </thead>
              <tbody>
                {problems.issues.map((issue, i) => (
                  <tr key={i}>
                    <td class="mono nowrap">{issue.path}</td>
                    <td>{issue.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {problems.count > problems.issues.length && (
            <p class="muted small">
              {figure(problems.count - problems.issues.length)} more problems not listed.
            </p>
          )}
        </div>
      )}
    </section>
  )
}

function SpendTotals({ list }: { list: SpendList }) {
  return (
    <DenseTable
      items={list.totals}
      empty={<p>No spend imported for these days.</p>}
      aria-label="Spend per channel"
      head={
        <>
          <th scope="col">Channel</th>
          <th scope="col">Currency</th>
          <th scope="col" class="num">
            Days
          </th>
          <th scope="col" class="num">
            Amount
          </th>
        </>
      }
      row={(total) => (
        <tr key={`${total.channel}-${total.currency}`}>
          <td>{total.channel}</td>
          <td>{total.currency ?? '—'}</td>
          <td class="num">{figure(total.days)}</td>
          <td class="num">{figure(total.amount)}</td>
        </tr>
      )}
    />
  )
}
