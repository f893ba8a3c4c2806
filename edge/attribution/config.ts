import { drizzle } from 'drizzle-orm/d1'
import { desc, inArray } from 'drizzle-orm'
import { attributionFits, conversionDefinitions, settings } from '../db/schema'
import type { FittedWeights } from '../../domain/attribution'
import { DEFAULT_CHANNEL_RULES, type ChannelRule } from '../../domain/channel'
import type { ConversionDefinition } from '../../domain/conversions'
import { RefreshedValue } from '../cache/refreshed-value'
import type { Env } from '../env'
import { sha256Hex } from '../access/secrets'

export interface AttributionSettings {
  /** Touches older than this before a conversion get no credit. */
  lookbackDays: number
  /** Time-decay half-life. */
  halfLifeDays: number
  /** Touches kept per contact (the oldest go first). */
  maxTouches: number
}

/** Bounds of the attribution settings (`PUT /api/attribution/settings`). */
export const ATTRIBUTION_SETTING_LIMITS = {
  lookbackDays: { min: 1, max: 365 },
  halfLifeDays: { max: 365 },
  maxTouches: { min: 1, max: 1000 },
} as const

/**
 * Bounds of conversion definitions. Every definition rides on every ingest call (each
 * ContactDO matches each track event against all of them), so their number and size are capped.
 */
export const CONVERSION_LIMITS = {
  definitions: 50,
  nameChars: 100,
  eventNameChars: 200,
  /** Property names in a filter and the value property. */
  propertyChars: 100,
  filters: 20,
  filterValueChars: 200,
} as const

export const DEFAULT_ATTRIBUTION: AttributionSettings = {
  lookbackDays: 90,
  halfLifeDays: 7,
  maxTouches: 100,
}

/** What ingestion needs to classify channels and credit conversions in real time. */
export interface AttributionConfig extends AttributionSettings {
  conversions: ConversionDefinition[]
  fitted: FittedWeights | null
  channelRules: ChannelRule[]
  /** A digest of the part contacts use: it changes whenever that part does. */
  version: string
}

/**
 * What a ContactDO uses to credit conversions. Ingest calls name it by `version` only; the
 * object reads it when the version moves (durable/contact-configuration.ts).
 */
export type ContactAttribution = Omit<AttributionConfig, 'channelRules' | 'version'>

export const SETTINGS_KEYS = { attribution: 'attribution', channelRules: 'channel_rules' } as const

/**
 * Read on every ingest request, changed rarely: cached per isolate for a few seconds and
 * refreshed without holding up ingestion (see cache/refreshed-value.ts). A change reaches every
 * isolate within CACHE_MS and one read; the isolate that made it forgets at once.
 */
const CACHE_MS = 5_000
const cached = new RefreshedValue<AttributionConfig>(CACHE_MS)

export function attributionConfig(env: Pick<Env, 'DB'>): Promise<AttributionConfig> {
  return cached.get(() => loadConfig(env.DB))
}

export function forgetAttributionConfig() {
  cached.forget()
}

/** Reads the configuration from D1, uncached (the edge caches it; see `attributionConfig`). */
export async function loadConfig(db: D1Database): Promise<AttributionConfig> {
  const orm = drizzle(db)
  const [definitions, settingRows, [fit]] = await Promise.all([
    orm.select().from(conversionDefinitions),
    orm
      .select()
      .from(settings)
      .where(inArray(settings.key, Object.values(SETTINGS_KEYS))),
    orm.select().from(attributionFits).orderBy(desc(attributionFits.fittedAt)).limit(1),
  ])
  const byKey = Object.fromEntries(settingRows.map((row) => [row.key, row.value]))
  const contacts: ContactAttribution = {
    ...DEFAULT_ATTRIBUTION,
    ...(byKey[SETTINGS_KEYS.attribution] as Partial<AttributionSettings> | undefined),
    conversions: definitions.map(({ createdAt: _createdAt, ...definition }) => definition),
    fitted: fit
      ? { removalEffects: fit.removalEffects, valueRemovalEffects: fit.valueRemovalEffects }
      : null,
  }
  return {
    ...contacts,
    channelRules:
      (byKey[SETTINGS_KEYS.channelRules] as ChannelRule[] | undefined) ?? DEFAULT_CHANNEL_RULES,
    version: (await sha256Hex(JSON.stringify(contacts))).slice(0, 32),
  }
}
