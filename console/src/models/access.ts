import { allowed, type RouteKey } from '../../../edge/access/permissions'
import type { Role } from '../../../edge/access/roles'

export { ROLES, type Role } from '../../../edge/access/roles'

/**
 * What each role may open in the console: each area needs one route of the server's
 * permission table (edge/access/permissions.ts), so the two cannot drift apart. The server
 * decides; this only hides what would answer 403.
 */

export type Area =
  | 'overview'
  | 'contacts'
  | 'messages'
  | 'providers'
  | 'attribution'
  | 'compliance'
  | 'settings'
  | 'sources'
  | 'editSources'
  | 'keys'
  | 'retention'
  | 'editRetention'
  | 'privacy'
  | 'segments'
  | 'editSegments'
  | 'journeys'
  | 'templates'
  | 'predictions'
  | 'kpis'
  | 'editKpis'
  | 'importSpend'

const AREAS: Record<Exclude<Area, 'settings'>, RouteKey> = {
  overview: 'GET /api/insights/overview',
  contacts: 'GET /api/contacts',
  messages: 'GET /api/messages',
  providers: 'GET /api/messaging/providers',
  attribution: 'GET /api/attribution/compare',
  compliance: 'GET /api/audit',
  privacy: 'POST /api/privacy/erasure',
  sources: 'GET /api/sources',
  editSources: 'POST /api/sources',
  keys: 'GET /api/keys',
  retention: 'GET /api/privacy/retention',
  editRetention: 'PUT /api/privacy/retention',
  segments: 'GET /api/segments',
  editSegments: 'POST /api/segments',
  journeys: 'GET /api/journeys',
  templates: 'GET /api/templates',
  predictions: 'GET /api/predictions/at-risk',
  kpis: 'GET /api/insights/kpis',
  editKpis: 'PUT /api/insights/kpis/settings',
  importSpend: 'POST /api/spend',
}

/** Settings gathers sources, keys and retention: open to whoever may see one of them. */
const SETTINGS_PARTS = ['sources', 'keys', 'retention'] as const

export function may(role: Role | undefined, area: Area): boolean {
  if (role === undefined) return false
  if (area === 'settings') return SETTINGS_PARTS.some((part) => allowed(AREAS[part], role))
  return allowed(AREAS[area], role)
}

export const SCREENS = [
  { area: 'overview', path: '/overview', label: 'Overview' },
  { area: 'kpis', path: '/kpis', label: 'KPIs' },
  { area: 'contacts', path: '/contacts', label: 'Contacts' },
  { area: 'segments', path: '/segments', label: 'Segments' },
  { area: 'journeys', path: '/journeys', label: 'Journeys' },
  { area: 'templates', path: '/templates', label: 'Templates' },
  { area: 'messages', path: '/messages', label: 'Messages' },
  { area: 'predictions', path: '/predictions', label: 'Predictions' },
  { area: 'attribution', path: '/attribution', label: 'Attribution' },
  { area: 'compliance', path: '/compliance', label: 'Compliance' },
  { area: 'settings', path: '/settings', label: 'Settings' },
] as const satisfies readonly { area: Area; path: string; label: string }[]

/** Where a role lands after logging in. */
export function homeOf(role: Role): string {
  return SCREENS.find((screen) => may(role, screen.area))?.path ?? '/contacts'
}
