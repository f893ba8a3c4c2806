import { isbot } from 'isbot'
import UAParser from 'ua-parser-js'
import {
  CLICK_ID_PARAMS,
  DEFAULT_CHANNEL_RULES,
  classifyChannel,
  domainOf,
  type ChannelRule,
} from '../../domain/channel'
import type { Enrichment } from '../../contracts/stored-event'
import { hex } from '../../domain/hex'

/** What the request itself tells about the client, computed once per request. */
export interface ClientInfo {
  userAgent?: string
  ip?: string
  country?: string
  /** The browser sent `Sec-GPC: 1` (Global Privacy Control). */
  gpc?: boolean
  /** From the browser's request, for trackers that leave them out to stay small. */
  timezone?: string
  locale?: string
}

/**
 * Segment's context.campaign names utm_campaign `name` and drops the `utm_` prefix; small
 * trackers send the raw parameter names. Both arrive as Segment's names; click ids keep theirs.
 */
export function segmentCampaign(value: unknown): Record<string, unknown> | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const campaign: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(value)) {
    const renamed = key === 'utm_campaign' ? 'name' : key.startsWith('utm_') ? key.slice(4) : key
    if (!(renamed in campaign) || key === renamed) campaign[renamed] = raw
  }
  return campaign
}

type DeviceInfo = Pick<Enrichment, 'browser' | 'os' | 'device' | 'bot'>

/**
 * User-agent parsing is regex-heavy and traffic repeats a few thousand agents, so results are
 * kept per isolate (bounded; cleared when full).
 */
const DEVICE_CACHE_SIZE = 5_000
const devices = new Map<string, DeviceInfo>()

export function parseDevice(userAgent: string | undefined): DeviceInfo {
  if (!userAgent) return { device: 'other', bot: false }
  let info = devices.get(userAgent)
  if (!info) {
    info = describeDevice(userAgent)
    if (devices.size >= DEVICE_CACHE_SIZE) devices.clear()
    devices.set(userAgent, info)
  }
  return info
}

function describeDevice(userAgent: string): DeviceInfo {
  if (isbot(userAgent)) return { device: 'bot', bot: true }
  const result = new UAParser(userAgent).getResult()
  const type = result.device.type
  const device = type === 'mobile' || type === 'tablet' ? type : type ? 'other' : 'desktop'
  return {
    browser: result.browser.name,
    os: result.os.name,
    device,
    bot: false,
  }
}

/** HMAC-SHA256 of the IP under the deployment's salt, first 16 bytes as hex. */
export async function hashIp(ip: string, key: CryptoKey): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(ip))
  return hex(mac, 16)
}

export function importIpKey(salt: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(salt),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
}

interface PageFields {
  url?: string
  path?: string
  referrer?: string
  search?: string
}

/** Page, campaign and channel facts of one message (Segment puts them in context and properties). */
export function describePage(
  message: {
    type: string
    properties?: Record<string, unknown>
    context: Record<string, unknown>
  },
  rules: readonly ChannelRule[] = DEFAULT_CHANNEL_RULES,
): Pick<
  Enrichment,
  'url' | 'path' | 'referrer' | 'referrerDomain' | 'landing' | 'channel' | 'campaign' | 'clickIds'
> {
  const page = { ...asRecord<PageFields>(message.context.page) }
  if (message.type === 'page') Object.assign(page, pickStrings(message.properties, PAGE_KEYS))
  const url = stringOr(page.url)
  const parsed = safeUrl(url)
  const path = stringOr(page.path) ?? parsed?.pathname
  const referrer = stringOr(page.referrer) || undefined
  const campaign = campaignOf(message.context.campaign, parsed)
  const clickIds = CLICK_ID_PARAMS.filter((name) => campaign[name])
  const referrerDomain = domainOf(referrer)
  // An event with no page, referrer or campaign (a server-side call) has no channel at all.
  const fromPage = Boolean(url || referrer || Object.keys(campaign).length > 0 || page.path)
  const channel = !fromPage
    ? undefined
    : classifyChannel(
        {
          utmSource: campaign.source,
          utmMedium: campaign.medium,
          utmCampaign: campaign.name,
          clickIds,
          referrerDomain,
          pageDomain: parsed?.hostname,
        },
        rules,
      )
  const pageDomain = parsed?.hostname.replace(/^www\./, '')
  return {
    url,
    path,
    referrer,
    referrerDomain,
    landing: !referrerDomain || referrerDomain !== pageDomain,
    channel,
    campaign: Object.keys(campaign).length ? campaign : undefined,
    clickIds: clickIds.length ? clickIds : undefined,
  }
}

const PAGE_KEYS = ['url', 'path', 'referrer', 'search'] as const

/** Segment's `context.campaign` names utm_campaign `name`; URL parameters fill what it lacks. */
function campaignOf(value: unknown, url: URL | undefined): Record<string, string> {
  const campaign: Record<string, string> = {}
  for (const [key, raw] of Object.entries(asRecord<Record<string, unknown>>(value))) {
    if (typeof raw === 'string' && raw) campaign[key] = raw
  }
  if (url) {
    for (const [param, key] of UTM_PARAMS) {
      const found = url.searchParams.get(param)
      if (found && !campaign[key]) campaign[key] = found
    }
    for (const param of CLICK_ID_PARAMS) {
      const found = url.searchParams.get(param)
      if (found && !campaign[param]) campaign[param] = found
    }
  }
  return campaign
}

const UTM_PARAMS = [
  ['utm_source', 'source'],
  ['utm_medium', 'medium'],
  ['utm_campaign', 'name'],
  ['utm_term', 'term'],
  ['utm_content', 'content'],
] as const

function asRecord<T>(value: unknown): Partial<T> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Partial<T>) : {}
}

function pickStrings(source: Record<string, unknown> | undefined, keys: readonly string[]) {
  const picked: Record<string, string> = {}
  for (const key of keys) {
    const value = source?.[key]
    if (typeof value === 'string' && value) picked[key] = value
  }
  return picked
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function safeUrl(url: string | undefined): URL | undefined {
  if (!url) return undefined
  try {
    return new URL(url)
  } catch {
    return undefined
  }
}
