import type { TimelineEvent } from '../models/contacts'

/** The one line that names an event: its track name, page name or path. */
export function eventTitle(event: TimelineEvent): string {
  if (event.event) return event.event
  if (event.type === 'page' || event.type === 'screen') {
    return event.name || event.enrichment?.path || event.enrichment?.url || event.type
  }
  if (event.type === 'group') {
    const groupId = (event as { groupId?: unknown }).groupId
    return typeof groupId === 'string' ? `group ${groupId}` : 'group'
  }
  return event.name || event.type
}
