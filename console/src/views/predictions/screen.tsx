import { useEffect } from 'preact/hooks'
import { atRisk, fit, predictionSettings } from '../../models/predictions'
import { Link, PageHeader, Tabs } from '../common'
import { AtRiskView } from './at-risk'
import { ModelView } from './model'
import './predictions.css'
import { SettingsView } from './settings'

const SECTIONS = [
  { id: 'at-risk', path: '/predictions', label: 'At risk' },
  { id: 'model', path: '/predictions/model', label: 'Model' },
  { id: 'settings', path: '/predictions/settings', label: 'Settings' },
] as const

type Section = (typeof SECTIONS)[number]['id']

/**
 * `/predictions` (the at-risk list), `/predictions/model` (the fit, refit, candidate actions),
 * `/predictions/settings`. The fit and the settings are read once for every section: the list
 * names its threshold and the fit it comes from.
 */
export default function PredictionsScreen({ path }: { path: string[] }) {
  const section: Section | undefined =
    path.length === 0 ? 'at-risk' : SECTIONS.find((s) => s.id === path[0] && s.id !== 'at-risk')?.id
  useEffect(() => {
    void fit.load()
    void predictionSettings.load()
  }, [])
  if (!section || path.length > 1) return <NoSection />
  return (
    <>
      <PageHeader title="Predictions" />
      <Tabs
        label="Prediction sections"
        items={SECTIONS.map((s) => ({ href: s.path, label: s.label, active: s.id === section }))}
      />
      <div class="tab-panel">
        {section === 'at-risk' && <AtRiskView list={atRisk} />}
        {section === 'model' && <ModelView />}
        {section === 'settings' && <SettingsView />}
      </div>
    </>
  )
}

function NoSection() {
  return (
    <>
      <PageHeader title="Page not found" />
      <p class="state empty">
        Predictions has no such page. <Link href="/predictions">Contacts at risk</Link>
      </p>
    </>
  )
}
