import type { Role } from './roles'

/**
 * Who may use which management route: the one table every `/api` request is checked against.
 * `analyst` is read-only (its one POST computes a report and changes nothing); `compliance`
 * owns erasure, exports and the audit log; personal data reads are audited whoever reads.
 */
const EVERYONE: readonly Role[] = ['admin', 'marketer', 'analyst', 'compliance']
const ADMIN: readonly Role[] = ['admin']
const COMPLIANCE: readonly Role[] = ['admin', 'compliance']
const ANALYTICS: readonly Role[] = ['admin', 'marketer', 'analyst']
const MARKETING: readonly Role[] = ['admin', 'marketer']

export const PERMISSIONS = {
  'GET /api/session': EVERYONE,
  'DELETE /api/session': EVERYONE,
  'GET /api/keys': ADMIN,
  'POST /api/keys': ADMIN,
  'DELETE /api/keys/{id}': ADMIN,
  'GET /api/sources': MARKETING,
  'POST /api/sources': ADMIN,
  'PATCH /api/sources/{id}': ADMIN,
  'GET /api/contacts': EVERYONE,
  'GET /api/contacts/{id}': EVERYONE,
  'GET /api/contacts/{id}/events': EVERYONE,
  'GET /api/contacts/{id}/consent': EVERYONE,
  'POST /api/contacts/{id}/consent': COMPLIANCE,
  'GET /api/consent/totals': COMPLIANCE,
  'GET /api/privacy/erasure': COMPLIANCE,
  'POST /api/privacy/erasure': COMPLIANCE,
  'GET /api/privacy/erasure/{id}': COMPLIANCE,
  'GET /api/privacy/export/{contactId}': COMPLIANCE,
  'GET /api/privacy/suppressions': COMPLIANCE,
  'DELETE /api/privacy/suppressions/{hash}': COMPLIANCE,
  'GET /api/privacy/retention': COMPLIANCE,
  'PUT /api/privacy/retention': ADMIN,
  'GET /api/audit': COMPLIANCE,
  'GET /api/audit/verify': COMPLIANCE,
  'GET /api/insights/overview': ANALYTICS,
  'GET /api/insights/live': ANALYTICS,
  'GET /api/attribution': ANALYTICS,
  'GET /api/attribution/compare': ANALYTICS,
  'POST /api/attribution/analyze': ANALYTICS,
  'POST /api/attribution/refit': MARKETING,
  'GET /api/attribution/conversions': ANALYTICS,
  'POST /api/attribution/conversions': MARKETING,
  'DELETE /api/attribution/conversions/{id}': MARKETING,
  'GET /api/attribution/channels': ANALYTICS,
  'PUT /api/attribution/channels': ADMIN,
  'GET /api/attribution/settings': ANALYTICS,
  'PUT /api/attribution/settings': ADMIN,
} as const satisfies Record<string, readonly Role[]>

export type RouteKey = keyof typeof PERMISSIONS

/** Routes whose reads return a person's data: each read is written to the audit log. */
export const PERSONAL_DATA_READS: ReadonlySet<RouteKey> = new Set<RouteKey>([
  'GET /api/contacts/{id}',
  'GET /api/contacts/{id}/events',
  'GET /api/contacts/{id}/consent',
  'GET /api/privacy/export/{contactId}',
  'GET /api/insights/live',
])

const MATCHERS = Object.keys(PERMISSIONS).map((key) => {
  const [method, template] = key.split(' ') as [string, string]
  const pattern = template.replace(/\{[^}]+\}/g, '([^/]+)')
  return { key: key as RouteKey, method, regex: new RegExp(`^${pattern}$`) }
})

/** The permission entry of a request, with its path parameters in order. */
export function matchRoute(
  method: string,
  path: string,
): { key: RouteKey; params: string[] } | null {
  for (const matcher of MATCHERS) {
    if (matcher.method !== method) continue
    const match = matcher.regex.exec(path)
    if (match) return { key: matcher.key, params: match.slice(1).map(decodeURIComponent) }
  }
  return null
}

export function allowed(key: RouteKey, role: Role): boolean {
  return (PERMISSIONS[key] as readonly Role[]).includes(role)
}
