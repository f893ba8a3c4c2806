import { loadConfig, type ContactAttribution } from '../edge/attribution/config'
import type { Env } from '../edge/env'

/** Versions kept per isolate: the current one, and the one an edge isolate may still name. */
const KEPT = 4
const byVersion = new Map<string, ContactAttribution>()

/**
 * The configuration contact objects use, by the version each ingest call names: kept per
 * isolate and shared by every object in it, so D1 is read once per isolate when the version
 * moves, not once per object or per call, and ingest calls carry a version instead of every
 * conversion definition and fitted weight. D1 may already hold a newer version than the one
 * named (an edge isolate refreshes its copy every few seconds): that one serves as well, and is
 * kept under both names. Only loaded values are shared, never a read in progress (see
 * edge/cache/refreshed-value.ts for why).
 */
export async function contactAttribution(
  env: Pick<Env, 'DB'>,
  version: string,
): Promise<ContactAttribution> {
  const known = byVersion.get(version)
  if (known) return known
  const { channelRules: _rules, version: loaded, ...attribution } = await loadConfig(env.DB)
  if (byVersion.size >= KEPT) byVersion.clear()
  byVersion.set(version, attribution)
  byVersion.set(loaded, attribution)
  return attribution
}
