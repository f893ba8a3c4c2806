import type { Env } from '../edge/env'
import {
  loadPredictionsConfig,
  predictionsConfig,
  type PredictionsConfig,
} from '../edge/predictions/config'

/** Versions kept per isolate, as for the attribution configuration (contact-configuration.ts). */
const KEPT = 4
const byVersion = new Map<string, PredictionsConfig>()

/**
 * The predictions configuration (settings and newest fit) of `version`, read from D1 once per
 * isolate when the version moves, as contact-configuration.ts reads attribution's; `null` asks
 * for the newest as the edge's cache knows it (a scheduled job, a change that names no version).
 * D1 may hold a newer one than named: it serves as well, and is kept under both names.
 */
export async function contactPredictionsConfig(
  env: Pick<Env, 'DB'>,
  version: string | null,
): Promise<PredictionsConfig> {
  if (version === null) return predictionsConfig(env)
  const known = byVersion.get(version)
  if (known) return known
  const loaded = await loadPredictionsConfig(env.DB)
  if (byVersion.size >= KEPT) byVersion.clear()
  byVersion.set(version, loaded)
  byVersion.set(loaded.version, loaded)
  return loaded
}
