import type { Rule } from '../domain/segments/rule.ts'

/**
 * The rules the segments section measures. Previews run over the synthetic D1 population
 * (segments-seed.ts: its traits and event names); the live segments read what the ingest
 * workload (workload.ts) sends, so that its events and identifies really make contact objects
 * evaluate them.
 */

export interface PreviewRule {
  key: string
  label: string
  rule: Rule
}

/** The typical rule the preview target is stated for. */
export const TYPICAL_RULE: PreviewRule = {
  key: 'typical',
  label: "plan = pro and performed 'Viewed Pricing' in 7 days",
  rule: {
    all: [
      { trait: 'plan', op: 'eq', value: 'pro' },
      { performed: 'Viewed Pricing', within: { days: 7 } },
    ],
  },
}

export const PREVIEW_RULES: PreviewRule[] = [
  TYPICAL_RULE,
  { key: 'trait', label: 'plan = pro', rule: { trait: 'plan', op: 'eq', value: 'pro' } },
  {
    key: 'count',
    label: "performed 'Product Viewed' ≥ 3 times",
    rule: { performed: 'Product Viewed', count: { op: 'gte', value: 3 } },
  },
  {
    key: 'not-performed',
    label: "never performed 'Order Completed'",
    rule: { not: { performed: 'Order Completed' } },
  },
]

/**
 * A segment created through `POST /api/segments`. An `inSegment` names another live segment by
 * its `slug`; `withIds` swaps in the id the API gave it.
 */
export interface LiveSegment {
  slug: string
  name: string
  rule: Rule
}

const days = (n: number) => ({ days: n })

/**
 * Fifty segments as a shop might keep them: traits alone, performed with and without windows
 * and counts on a handful of event names (page views included), property conditions, last
 * performed, consent, random buckets, references, and all/any/not nested up to three deep.
 */
export const LIVE_SEGMENTS: LiveSegment[] = [
  // Traits (identify sends email, firstName, lastName, plan, createdAt, sometimes company).
  { slug: 'pro', name: 'Pro plan', rule: { trait: 'plan', op: 'eq', value: 'pro' } },
  { slug: 'plus', name: 'Plus plan', rule: { trait: 'plan', op: 'eq', value: 'plus' } },
  { slug: 'free', name: 'Free plan', rule: { trait: 'plan', op: 'eq', value: 'free' } },
  {
    slug: 'paying',
    name: 'Paying',
    rule: { trait: 'plan', op: 'in', value: ['plus', 'pro'] },
  },
  { slug: 'known', name: 'Known email', rule: { trait: 'email', op: 'exists' } },
  {
    slug: 'example-mail',
    name: 'Example addresses',
    rule: { trait: 'email', op: 'contains', value: '@example.com' },
  },
  {
    slug: 'big-company',
    name: 'Companies of 250+',
    rule: { trait: 'company.employees', op: 'gte', value: 250 },
  },
  {
    slug: 'new-signups',
    name: 'Signed up in 90 days',
    rule: { trait: 'createdAt', op: 'within', duration: days(90) },
  },
  {
    slug: 'old-accounts',
    name: 'Accounts older than a year',
    rule: { trait: 'createdAt', op: 'before', duration: days(365) },
  },
  { slug: 'named', name: 'Named', rule: { trait: 'firstName', op: 'exists' } },

  // Performed, with and without windows and counts.
  { slug: 'visitors', name: 'Visited', rule: { performed: '$page' } },
  {
    slug: 'visited-today',
    name: 'Visited today',
    rule: { performed: '$page', within: days(1) },
  },
  {
    slug: 'engaged-visitors',
    name: '5+ page views in 7 days',
    rule: { performed: '$page', within: days(7), count: { op: 'gte', value: 5 } },
  },
  {
    slug: 'pricing-viewers',
    name: 'Saw the membership page',
    rule: { performed: '$page', where: [{ property: 'path', op: 'eq', value: '/pricing' }] },
  },
  { slug: 'buyers', name: 'Bought', rule: { performed: 'Order Completed' } },
  {
    slug: 'recent-buyers',
    name: 'Bought in 30 days',
    rule: { performed: 'Order Completed', within: days(30) },
  },
  {
    slug: 'repeat-buyers',
    name: 'Bought twice',
    rule: { performed: 'Order Completed', count: { op: 'gte', value: 2 } },
  },
  {
    slug: 'big-orders',
    name: 'Ordered for 300+',
    rule: {
      performed: 'Order Completed',
      where: [{ property: 'revenue', op: 'gte', value: 300 }],
    },
  },
  {
    slug: 'browsers',
    name: 'Viewed products in 7 days',
    rule: { performed: 'Product Viewed', within: days(7) },
  },
  {
    slug: 'heavy-browsers',
    name: '10+ product views',
    rule: { performed: 'Product Viewed', count: { op: 'gte', value: 10 } },
  },
  {
    slug: 'jacket-viewers',
    name: 'Viewed jackets',
    rule: {
      performed: 'Product Viewed',
      where: [{ property: 'category', op: 'eq', value: 'Jackets' }],
    },
  },
  {
    slug: 'carts',
    name: 'Added to cart in 3 days',
    rule: { performed: 'Product Added', within: days(3) },
  },
  {
    slug: 'checkouts',
    name: 'Started checkout today',
    rule: { performed: 'Checkout Started', within: days(1) },
  },
  {
    slug: 'searchers',
    name: 'Searched for merino',
    rule: {
      performed: 'Products Searched',
      where: [{ property: 'query', op: 'contains', value: 'merino' }],
    },
  },
  { slug: 'subscribers', name: 'Newsletter', rule: { performed: 'Newsletter Subscribed' } },
  {
    slug: 'watchers',
    name: 'Watched a video in 14 days',
    rule: { performed: 'Video Played', within: days(14) },
  },
  {
    slug: 'last-order-coupon',
    name: 'Last order used a coupon',
    rule: { lastPerformed: 'Order Completed', has: [{ property: 'coupon', op: 'exists' }] },
  },
  {
    slug: 'last-view-expensive',
    name: 'Last product viewed cost 150+',
    rule: { lastPerformed: 'Product Viewed', has: [{ property: 'price', op: 'gte', value: 150 }] },
  },

  // Consent.
  {
    slug: 'marketing-ok',
    name: 'Marketing consent',
    rule: { consent: 'marketing', granted: true },
  },
  {
    slug: 'no-marketing',
    name: 'No marketing consent',
    rule: { consent: 'marketing', granted: false },
  },
  {
    slug: 'analytics-ok',
    name: 'Analytics consent',
    rule: { consent: 'analytics', granted: true },
  },

  // Buckets and references.
  { slug: 'holdout', name: '10% holdout', rule: { bucket: { percent: 10, salt: 'holdout' } } },
  {
    slug: 'test-group',
    name: 'Test group of visitors',
    rule: { all: [{ bucket: { percent: 50, salt: 'ab-1' } }, { performed: '$page' }] },
  },
  {
    slug: 'pro-buyers',
    name: 'Pro buyers',
    rule: { all: [{ inSegment: 'pro' }, { inSegment: 'buyers' }] },
  },
  {
    slug: 'mailable-buyers',
    name: 'Buyers we may email',
    rule: { all: [{ inSegment: 'recent-buyers' }, { inSegment: 'marketing-ok' }] },
  },

  // Nested all / any / not.
  {
    slug: 'pro-pricing',
    name: 'Pro and saw pricing in 7 days',
    rule: {
      all: [
        { trait: 'plan', op: 'eq', value: 'pro' },
        {
          performed: '$page',
          within: days(7),
          where: [{ property: 'path', op: 'eq', value: '/pricing' }],
        },
      ],
    },
  },
  {
    slug: 'abandoned-carts',
    name: 'Abandoned cart',
    rule: {
      all: [
        { performed: 'Product Added', within: days(7) },
        { not: { performed: 'Order Completed', within: days(7) } },
      ],
    },
  },
  {
    slug: 'abandoned-checkouts',
    name: 'Abandoned checkout',
    rule: {
      all: [
        { performed: 'Checkout Started', within: days(2) },
        { not: { performed: 'Order Completed', within: days(2) } },
      ],
    },
  },
  {
    slug: 'never-bought',
    name: 'Never bought',
    rule: { not: { performed: 'Order Completed' } },
  },
  {
    slug: 'window-shoppers',
    name: 'Browse, never buy',
    rule: {
      all: [
        { performed: 'Product Viewed', count: { op: 'gte', value: 3 } },
        { not: { performed: 'Order Completed' } },
      ],
    },
  },
  {
    slug: 'active',
    name: 'Active this week',
    rule: {
      any: [
        { performed: '$page', within: days(7) },
        { performed: 'Product Viewed', within: days(7) },
        { performed: 'Order Completed', within: days(7) },
      ],
    },
  },
  {
    slug: 'lapsed',
    name: 'Lapsed customers',
    rule: {
      all: [{ performed: 'Order Completed' }, { not: { performed: '$page', within: days(30) } }],
    },
  },
  {
    slug: 'upsell',
    name: 'Free plan, engaged',
    rule: {
      all: [
        { trait: 'plan', op: 'eq', value: 'free' },
        {
          any: [
            { performed: 'Product Viewed', within: days(7), count: { op: 'gte', value: 3 } },
            { performed: 'Product Added', within: days(7) },
          ],
        },
      ],
    },
  },
  {
    slug: 'reengage',
    name: 'Re-engage by email',
    rule: {
      all: [
        { consent: 'marketing', granted: true },
        { trait: 'email', op: 'exists' },
        { not: { performed: '$page', within: days(14) } },
      ],
    },
  },
  {
    slug: 'vip',
    name: 'VIP',
    rule: {
      any: [
        { all: [{ trait: 'plan', op: 'eq', value: 'pro' }, { inSegment: 'repeat-buyers' }] },
        { performed: 'Order Completed', where: [{ property: 'revenue', op: 'gte', value: 500 }] },
      ],
    },
  },
  {
    slug: 'b2b-leads',
    name: 'B2B leads',
    rule: {
      all: [
        { trait: 'company.name', op: 'exists' },
        { not: { trait: 'plan', op: 'eq', value: 'pro' } },
        { performed: '$page', count: { op: 'gte', value: 3 } },
      ],
    },
  },
  {
    slug: 'gear-fans',
    name: 'Gear fans',
    rule: {
      any: [
        { performed: 'Products Searched', within: days(14) },
        { performed: 'Video Played' },
        {
          all: [
            { performed: 'Product Viewed', within: days(14) },
            { trait: 'plan', op: 'in', value: ['plus', 'pro'] },
          ],
        },
      ],
    },
  },
  {
    slug: 'quiet-subscribers',
    name: 'Subscribed, not visiting',
    rule: {
      all: [
        { performed: 'Newsletter Subscribed' },
        { not: { any: [{ performed: '$page', within: days(7) }, { performed: 'Email Opened' }] } },
      ],
    },
  },
  {
    slug: 'churn-risk',
    name: 'Renewed, then quiet',
    rule: {
      all: [
        { performed: 'Subscription Renewed' },
        { not: { performed: 'Email Link Clicked', within: days(30) } },
      ],
    },
  },
  {
    slug: 'email-engaged',
    name: 'Opened or clicked in 14 days',
    rule: {
      any: [
        { performed: 'Email Opened', within: days(14) },
        { performed: 'Email Link Clicked', within: days(14) },
      ],
    },
  },
]

/** The rule with every `inSegment` slug replaced by the id the API gave that segment. */
export function withIds(rule: Rule, ids: ReadonlyMap<string, string>): Rule {
  if ('all' in rule) return { all: rule.all.map((part) => withIds(part, ids)) }
  if ('any' in rule) return { any: rule.any.map((part) => withIds(part, ids)) }
  if ('not' in rule) return { not: withIds(rule.not, ids) }
  if ('inSegment' in rule) {
    const id = ids.get(rule.inSegment)
    if (id === undefined) throw new Error(`no live segment "${rule.inSegment}" before this one`)
    return { inSegment: id }
  }
  return rule
}
