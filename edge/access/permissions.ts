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
  'GET /api/insights/kpis': ANALYTICS,
  'GET /api/insights/kpis/settings': ANALYTICS,
  'PUT /api/insights/kpis/settings': MARKETING,
  'GET /api/spend': ANALYTICS,
  'POST /api/spend': MARKETING,
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
  'GET /api/segments': ANALYTICS,
  'POST /api/segments': MARKETING,
  // Computes a count and a sample and changes nothing, like analyze; audited as every POST is.
  'POST /api/segments/preview': ANALYTICS,
  'GET /api/segments/{id}': ANALYTICS,
  'PUT /api/segments/{id}': MARKETING,
  'DELETE /api/segments/{id}': MARKETING,
  'GET /api/segments/{id}/members': ANALYTICS,
  // Event names and trait and property paths for the segment builder: whoever reads segments.
  'GET /api/catalog': ANALYTICS,
  'GET /api/lists': ANALYTICS,
  'POST /api/lists': MARKETING,
  'GET /api/lists/{id}/members': ANALYTICS,
  'POST /api/messages/send': MARKETING,
  'PUT /api/contacts/{id}/subscriptions': MARKETING,
  'GET /api/messages': ANALYTICS,
  'GET /api/messages/{id}': ANALYTICS,
  'GET /api/messaging/settings': ANALYTICS,
  'PUT /api/messaging/settings': MARKETING,
  'POST /api/lists/{id}/members': MARKETING,
  'DELETE /api/lists/{id}/members': MARKETING,
  // Which providers send and how they are doing; credentials are never answered.
  'GET /api/messaging/providers': MARKETING,
  'PUT /api/messaging/providers': ADMIN,
  'GET /api/templates': ANALYTICS,
  'POST /api/templates': MARKETING,
  'GET /api/templates/{id}': ANALYTICS,
  'PUT /api/templates/{id}': MARKETING,
  'DELETE /api/templates/{id}': MARKETING,
  // Renders a contact's traits and changes nothing; audited, with its subject, as every POST is.
  'POST /api/templates/{id}/preview': ANALYTICS,
  // The same for a template not yet saved (an editor's draft).
  'POST /api/templates/preview': ANALYTICS,
  // Sends the template's subject (no person's data) to Workers AI when it is bound.
  'POST /api/templates/{id}/subject-suggestions': MARKETING,
  'GET /api/snippets': ANALYTICS,
  'PUT /api/snippets/{name}': MARKETING,
  'DELETE /api/snippets/{name}': MARKETING,
  'GET /api/subscription-groups': ANALYTICS,
  'POST /api/subscription-groups': MARKETING,
  'GET /api/predictions/settings': ANALYTICS,
  'PUT /api/predictions/settings': MARKETING,
  'POST /api/predictions/refit': MARKETING,
  'GET /api/predictions/model': ANALYTICS,
  // Fits summaries the caller brings and changes nothing, like analyze.
  'POST /api/predictions/fit': ANALYTICS,
  'GET /api/predictions/at-risk': ANALYTICS,
  'GET /api/contacts/{id}/predictions': EVERYONE,
  'GET /api/contacts/{id}/predictions/explanation': EVERYONE,
  'GET /api/predictions/actions': ANALYTICS,
  'GET /api/predictions/actions/outcomes': ANALYTICS,
  'PUT /api/predictions/actions': MARKETING,
  // What a journey (#24) will call when an action's window closes.
  'POST /api/predictions/actions/{id}/outcomes': MARKETING,
  // Before the `{id}` routes below: the first entry matching a path decides.
  // Receivers of journeys' webhooks need the secret to check signatures; rotating breaks them.
  'GET /api/journeys/webhook-secret': MARKETING,
  'POST /api/journeys/webhook-secret/rotate': ADMIN,
  'GET /api/journeys/ticketing': MARKETING,
  'PUT /api/journeys/ticketing': ADMIN,
  'GET /api/journey-library': ANALYTICS,
  'GET /api/journeys': ANALYTICS,
  'POST /api/journeys': MARKETING,
  'GET /api/journeys/{id}': ANALYTICS,
  'GET /api/journeys/{id}/versions/{version}': ANALYTICS,
  'POST /api/journeys/{id}/versions': MARKETING,
  'POST /api/journeys/{id}/publish': MARKETING,
  'POST /api/journeys/{id}/rollback': MARKETING,
  'POST /api/journeys/{id}/pause': MARKETING,
  'POST /api/journeys/{id}/resume': MARKETING,
  'POST /api/journeys/{id}/migrate': MARKETING,
  'GET /api/journeys/{id}/metrics': ANALYTICS,
  'POST /api/journeys/{id}/enter': MARKETING,
  // Runs a made-up contact and changes nothing, like a segment preview.
  'POST /api/journeys/{id}/simulate': ANALYTICS,
  'GET /api/contacts/{id}/journeys': EVERYONE,
} as const satisfies Record<string, readonly Role[]>

export type RouteKey = keyof typeof PERMISSIONS

type ReadRoute = Extract<RouteKey, `GET ${string}`>

/**
 * What every read returns, so that no read of personal data goes unaudited by being forgotten:
 * a GET route missing here does not compile, and permissions.test.ts checks this table against
 * the OpenAPI document. `personal`: anything about an identifiable person (keys, emails, traits,
 * events, consent, identifier hashes, a person's audit trail), audited on every request, one
 * row naming the query and, for lists, how many were returned. `none`: configuration,
 * aggregates, the caller's own session. Every other method is audited as a management action.
 */
export const READS = {
  'GET /api/session': 'none',
  'GET /api/keys': 'none',
  'GET /api/sources': 'none',
  'GET /api/contacts': 'personal',
  'GET /api/contacts/{id}': 'personal',
  'GET /api/contacts/{id}/events': 'personal',
  'GET /api/contacts/{id}/consent': 'personal',
  'GET /api/consent/totals': 'none',
  // Requests show the kind of identifier and the receipt's counts, never the identifier.
  'GET /api/privacy/erasure': 'none',
  'GET /api/privacy/erasure/{id}': 'none',
  'GET /api/privacy/export/{contactId}': 'personal',
  // Keyed hashes of erased people's identifiers: pseudonymous, still personal data.
  'GET /api/privacy/suppressions': 'personal',
  'GET /api/privacy/retention': 'none',
  // Entries say what was done with whose data (by subject hash): reading them is audited too.
  'GET /api/audit': 'personal',
  'GET /api/audit/verify': 'none',
  'GET /api/insights/overview': 'none',
  // Each event names its contact; the stream's opening is audited.
  'GET /api/insights/live': 'personal',
  // Aggregates and configuration: no person in them.
  'GET /api/insights/kpis': 'none',
  'GET /api/insights/kpis/settings': 'none',
  'GET /api/spend': 'none',
  'GET /api/attribution': 'none',
  'GET /api/attribution/compare': 'none',
  'GET /api/attribution/conversions': 'none',
  'GET /api/attribution/channels': 'none',
  'GET /api/attribution/settings': 'none',
  'GET /api/segments': 'none',
  'GET /api/segments/{id}': 'none',
  // Contact keys; a preview (POST) names some too, and is audited as a management action.
  'GET /api/segments/{id}/members': 'personal',
  // Names and paths, never values.
  'GET /api/catalog': 'none',
  'GET /api/lists': 'none',
  'GET /api/lists/{id}/members': 'personal',
  'GET /api/messaging/providers': 'none',
  // Each message names its contact; the log provider's copy holds the address and the content.
  'GET /api/messages': 'personal',
  'GET /api/messages/{id}': 'personal',
  'GET /api/messaging/settings': 'none',
  'GET /api/templates': 'none',
  'GET /api/templates/{id}': 'none',
  'GET /api/snippets': 'none',
  'GET /api/subscription-groups': 'none',
  'GET /api/predictions/settings': 'none',
  'GET /api/predictions/model': 'none',
  // Contact keys with their churn risk and value.
  'GET /api/predictions/at-risk': 'personal',
  'GET /api/contacts/{id}/predictions': 'personal',
  'GET /api/contacts/{id}/predictions/explanation': 'personal',
  'GET /api/predictions/actions': 'none',
  'GET /api/predictions/actions/outcomes': 'none',
  // The signing secret and the help desk's address: configuration, the credential never answered.
  'GET /api/journeys/webhook-secret': 'none',
  'GET /api/journeys/ticketing': 'none',
  'GET /api/journey-library': 'none',
  'GET /api/journeys': 'none',
  'GET /api/journeys/{id}': 'none',
  'GET /api/journeys/{id}/versions/{version}': 'none',
  'GET /api/journeys/{id}/metrics': 'none',
  // Runs and their step logs: what one person did and was sent.
  'GET /api/contacts/{id}/journeys': 'personal',
} as const satisfies Record<ReadRoute, 'personal' | 'none'>

/** Routes whose reads return a person's data: each read is written to the audit log. */
export const PERSONAL_DATA_READS: ReadonlySet<RouteKey> = new Set<RouteKey>(
  (Object.keys(READS) as ReadRoute[]).filter((route) => READS[route] === 'personal'),
)

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
