import { DEFAULT_KPI_SETTINGS, type KpiSettings } from '../../contracts/kpis'
import { readSetting, writeSetting } from '../db/settings'

/** The KPIs' event names (`GET/PUT /api/insights/kpis/settings`), D1 `settings` key `kpis`. */
export const KPI_SETTINGS_KEY = 'kpis'

export async function readKpiSettings(db: D1Database): Promise<KpiSettings> {
  const stored = await readSetting<Partial<KpiSettings>>(db, KPI_SETTINGS_KEY)
  return { ...DEFAULT_KPI_SETTINGS, ...stored }
}

export function writeKpiSettings(db: D1Database, value: KpiSettings): Promise<KpiSettings> {
  return writeSetting(db, KPI_SETTINGS_KEY, value)
}
