import { useEffect, useState } from 'preact/hooks'
import { may } from '../../models/access'
import { kpis, type KpiSettings } from '../../models/kpis'
import { session } from '../../models/session'
import { Async, ErrorNotice, Facts } from '../common'

/** The events the KPIs count: editable by admins and marketers, shown to analysts. */
export function KpiSettingsPanel() {
  useEffect(() => {
    void kpis.loadSettings()
  }, [])
  return (
    <section class="panel kpi-settings" aria-labelledby="kpi-settings-title">
      <h2 id="kpi-settings-title">Events the KPIs count</h2>
      <Async req={kpis.settings} retry={() => void kpis.loadSettings()}>
        {(current) =>
          may(session.role.value, 'editKpis') ? (
            <SettingsForm current={current} />
          ) : (
            <Facts
              items={[
                ['Lead event', current.leadEvent],
                ['Customer event', current.customerEvent],
                ['Churn event', current.churnEvent ?? 'none: churn is predicted'],
                ['Conversion window', `${current.conversionWindowDays} days`],
              ]}
            />
          )
        }
      </Async>
    </section>
  )
}

function SettingsForm({ current }: { current: KpiSettings }) {
  const [lead, setLead] = useState(current.leadEvent)
  const [customer, setCustomer] = useState(current.customerEvent)
  const [churn, setChurn] = useState(current.churnEvent ?? '')
  const [windowDays, setWindowDays] = useState(String(current.conversionWindowDays))
  const [saved, setSaved] = useState(false)
  const error = kpis.saving.error.value
  const busy = kpis.saving.loading.value
  const names = kpis.eventNames.data.value ?? []
  return (
    <form
      class="form kpi-settings-form"
      onSubmit={async (event) => {
        event.preventDefault()
        setSaved(false)
        const result = await kpis.saveSettings({
          leadEvent: lead.trim(),
          customerEvent: customer.trim(),
          churnEvent: churn.trim() === '' ? null : churn.trim(),
          conversionWindowDays: Number(windowDays),
        })
        setSaved(Boolean(result))
      }}
    >
      <label>
        Lead event
        <input
          required
          maxLength={200}
          list="kpi-event-names"
          value={lead}
          onInput={(e) => setLead(e.currentTarget.value)}
        />
      </label>
      <label>
        Customer event (its first one makes a new customer)
        <input
          required
          maxLength={200}
          list="kpi-event-names"
          value={customer}
          onInput={(e) => setCustomer(e.currentTarget.value)}
        />
      </label>
      <label>
        Churn event (empty: churn risk is predicted)
        <input
          maxLength={200}
          list="kpi-event-names"
          value={churn}
          placeholder="e.g. Subscription Cancelled"
          onInput={(e) => setChurn(e.currentTarget.value)}
        />
      </label>
      <label>
        Conversion window, days after the lead event
        <input
          type="number"
          required
          min={1}
          max={365}
          value={windowDays}
          onInput={(e) => setWindowDays(e.currentTarget.value)}
        />
      </label>
      <datalist id="kpi-event-names">
        {names.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <div class="toolbar">
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
        <span class="muted small" aria-live="polite">
          {saved && !error ? 'Saved; the KPIs use these events now.' : ''}
        </span>
      </div>
      {error && <ErrorNotice error={error} title="The settings were not saved" />}
    </form>
  )
}
