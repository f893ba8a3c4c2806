/**
 * Marketing channel of a session entry, in the spirit of GA4's default channel groups.
 * Pure: no platform imports. Rules are data, evaluated in order, first match wins, so an admin
 * can replace or extend them without code.
 */
import { compilePattern, type ChannelPattern } from './channel-pattern'

export interface TouchSignals {
  utmSource?: string
  utmMedium?: string
  utmCampaign?: string
  /** Names of click-id parameters present on the landing URL (gclid, fbclid, ...). */
  clickIds?: string[]
  /** Host of the referring page, without `www.`. */
  referrerDomain?: string
  /** Host of the landing page; a referrer on the same site is not a new touch. */
  pageDomain?: string
}

/**
 * Bounds of the rules an admin sets. Every page event runs them, so together with the bounds on
 * each pattern (channel-pattern.ts) they bound the work per event: at most `patternSteps` steps
 * per character of a UTM value, whatever the rules say.
 */
export const CHANNEL_RULE_LIMITS = {
  rules: 100,
  channelChars: 60,
  clickIds: 10,
  clickIdChars: 40,
  /** Compiled steps of all the rules' patterns together. */
  patternSteps: 10_000,
} as const

export interface ChannelRule {
  channel: string
  /** Patterns (channel-pattern.ts), matched case-insensitively against the whole value. */
  medium?: string
  source?: string
  campaign?: string
  /** Matches when any of these click ids is present. */
  clickIds?: string[]
  /** Named domain list (`search`, `social`, `video`, `shopping`, `email`) the source or referrer belongs to. */
  sourceIn?: keyof typeof DOMAIN_LISTS
  /** Only when no UTM parameters are present. */
  withoutUtm?: boolean
  /** Only when a referrer from another site is present. */
  withReferrer?: boolean
}

const DOMAIN_LISTS = {
  search: [
    'google',
    'bing',
    'yahoo',
    'duckduckgo',
    'baidu',
    'yandex',
    'ecosia',
    'naver',
    'seznam',
    'qwant',
    'startpage',
    'brave',
    'search.brave.com',
    'kagi',
  ],
  social: [
    'facebook',
    'fb',
    'instagram',
    'ig',
    'linkedin',
    'lnkd.in',
    'twitter',
    'x',
    't.co',
    'tiktok',
    'pinterest',
    'reddit',
    'snapchat',
    'threads',
    'bsky',
    'mastodon',
    'quora',
    'tumblr',
    'vk',
    'whatsapp',
    'telegram',
    'news.ycombinator',
  ],
  video: ['youtube', 'youtu.be', 'vimeo', 'twitch', 'dailymotion'],
  shopping: ['shopping.google', 'amazon', 'ebay', 'etsy', 'shopify', 'walmart'],
  email: ['mail.google', 'outlook.live', 'mail.yahoo', 'newsletter', 'substack'],
} as const

const PAID_MEDIUM = '(.*cp.*|ppc|retargeting|paid.*)'

export const DEFAULT_CHANNEL_RULES: ChannelRule[] = [
  { channel: 'paid_search', clickIds: ['gclid', 'gbraid', 'wbraid', 'msclkid', 'dclid'] },
  { channel: 'paid_social', clickIds: ['ttclid', 'li_fat_id', 'twclid', 'sccid'] },
  { channel: 'paid_shopping', medium: PAID_MEDIUM, sourceIn: 'shopping' },
  { channel: 'paid_shopping', campaign: '.*shop.*', medium: PAID_MEDIUM },
  { channel: 'paid_search', medium: PAID_MEDIUM, sourceIn: 'search' },
  { channel: 'paid_social', medium: PAID_MEDIUM, sourceIn: 'social' },
  { channel: 'paid_video', medium: PAID_MEDIUM, sourceIn: 'video' },
  { channel: 'display', medium: '(display|banner|expandable|interstitial|cpm)' },
  { channel: 'paid_other', medium: PAID_MEDIUM },
  { channel: 'email', medium: '(email|e-mail|e_mail|e mail|newsletter)' },
  { channel: 'email', source: '(email|e-mail|e_mail|e mail|newsletter)' },
  { channel: 'sms', medium: 'sms' },
  { channel: 'sms', source: 'sms' },
  { channel: 'affiliates', medium: 'affiliate.*' },
  {
    channel: 'organic_social',
    medium: '(social|social-network|social-media|sm|social network|social media)',
  },
  { channel: 'organic_social', sourceIn: 'social' },
  { channel: 'organic_video', sourceIn: 'video' },
  { channel: 'organic_shopping', sourceIn: 'shopping' },
  { channel: 'organic_search', medium: 'organic' },
  { channel: 'organic_search', sourceIn: 'search' },
  { channel: 'email', sourceIn: 'email' },
  { channel: 'referral', medium: '(referral|app|link)' },
  { channel: 'organic_social', clickIds: ['fbclid'] },
  { channel: 'referral', withReferrer: true },
]

export const DIRECT = 'direct'

export function classifyChannel(
  signals: TouchSignals,
  rules: readonly ChannelRule[] = DEFAULT_CHANNEL_RULES,
): string {
  const hasUtm = Boolean(signals.utmSource || signals.utmMedium || signals.utmCampaign)
  const referrer = isExternal(signals) ? signals.referrerDomain : undefined
  if (!hasUtm && !referrer && !signals.clickIds?.length) return DIRECT
  const source = signals.utmSource ?? (hasUtm ? undefined : referrer)
  for (const rule of rules) {
    if (matches(rule, signals, source, hasUtm, referrer)) return rule.channel
  }
  return hasUtm ? 'unassigned' : DIRECT
}

function matches(
  rule: ChannelRule,
  signals: TouchSignals,
  source: string | undefined,
  hasUtm: boolean,
  referrer: string | undefined,
): boolean {
  if (rule.withoutUtm && hasUtm) return false
  if (rule.withReferrer && !referrer) return false
  if (rule.clickIds && !rule.clickIds.some((id) => signals.clickIds?.includes(id))) return false
  if (rule.medium && !wholeMatch(rule.medium, signals.utmMedium)) return false
  if (rule.source && !wholeMatch(rule.source, signals.utmSource)) return false
  if (rule.campaign && !wholeMatch(rule.campaign, signals.utmCampaign)) return false
  if (rule.sourceIn && !inDomainList(DOMAIN_LISTS[rule.sourceIn], source)) return false
  return true
}

/** Compiled once per isolate; admins set a few dozen patterns, so the bound is never reached. */
const PATTERN_CACHE_SIZE = 1_000
const patterns = new Map<string, ChannelPattern | null>()

/**
 * Runs in time linear in the value (see channel-pattern.ts), never a backtracking RegExp: the
 * values are whatever a visitor put in a URL. A pattern stored before patterns were checked
 * that cannot be compiled matches nothing.
 */
function wholeMatch(source: string, value: string | undefined): boolean {
  if (value === undefined) return false
  let pattern = patterns.get(source)
  if (pattern === undefined) {
    const compiled = compilePattern(source)
    pattern = compiled.ok ? compiled.pattern : null
    if (patterns.size >= PATTERN_CACHE_SIZE) patterns.clear()
    patterns.set(source, pattern)
  }
  return pattern?.test(value) ?? false
}

/** `google`, `google.com`, `www.google.co.uk` and `news.google.com` all belong to `google`. */
function inDomainList(list: readonly string[], value: string | undefined): boolean {
  if (!value) return false
  const host = value.toLowerCase().replace(/^www\./, '')
  const labels = host.split('.')
  return list.some((entry) =>
    entry.includes('.')
      ? host === entry || host.startsWith(entry + '.') || host.endsWith('.' + entry)
      : labels.includes(entry),
  )
}

function isExternal(signals: TouchSignals): boolean {
  if (!signals.referrerDomain) return false
  if (!signals.pageDomain) return true
  const strip = (host: string) => host.toLowerCase().replace(/^www\./, '')
  return strip(signals.referrerDomain) !== strip(signals.pageDomain)
}

export function domainOf(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return new URL(url).hostname.replace(/^www\./, '') || undefined
  } catch {
    return undefined
  }
}

export const CLICK_ID_PARAMS = [
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'ttclid',
  'li_fat_id',
  'twclid',
  'sccid',
] as const
