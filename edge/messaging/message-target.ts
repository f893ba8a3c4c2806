import {
  ALL_MARKETING_GROUP,
  TRANSACTIONAL_GROUP,
  type TemplateKind,
} from '../../contracts/messaging'
import { ApiError } from '../errors'
import { listSubscriptionGroups } from './subscription-groups'
import { findTemplate } from './templates'

/** What a contact's object needs of a template to decide whether a message may go. */
export interface MessageTarget {
  templateId: string
  kind: TemplateKind
  /** The template's group, or the kind's default: all marketing, or `transactional`. */
  groupId: string
  /** Whether the group counts a contact who never chose as subscribed. */
  groupDefault: boolean
}

/**
 * A template's kind and group. Marketing without a group belongs to all marketing, which counts
 * everyone with marketing consent as subscribed until they leave it; a transactional template
 * without a group stops only for a contact who left `transactional` by name.
 */
export async function messageTarget(db: D1Database, templateId: string): Promise<MessageTarget> {
  const template = await findTemplate(db, templateId)
  if (!template) throw new ApiError(404, 'not_found', `No template ${templateId}`)
  const groups = template.group ? await listSubscriptionGroups(db) : []
  const defaults = Object.fromEntries(groups.map((g) => [g.id, g.defaultSubscribed]))
  return targetOf({ id: templateId, kind: template.kind, group: template.group }, defaults)
}

/** `messageTarget` for a template already read, given each group's default. */
export function targetOf(
  template: { id: string; kind: TemplateKind; group: string | null },
  groupDefaults: Readonly<Record<string, boolean>>,
): MessageTarget {
  const { id: templateId, kind } = template
  if (!template.group) {
    const groupId = kind === 'marketing' ? ALL_MARKETING_GROUP : TRANSACTIONAL_GROUP
    return { templateId, kind, groupId, groupDefault: true }
  }
  const groupId = template.group
  return { templateId, kind, groupId, groupDefault: groupDefaults[groupId] ?? false }
}

/** Every group named must exist: a choice for a misspelt group would be read by nothing. */
export async function requireGroups(db: D1Database, ids: string[]) {
  const known = new Set((await listSubscriptionGroups(db)).map((g) => g.id))
  known.add(TRANSACTIONAL_GROUP)
  const unknown = ids.filter((id) => !known.has(id))
  if (unknown.length > 0) {
    throw new ApiError(400, 'unknown_group', `No subscription group ${unknown.join(', ')}`, {
      unknown,
    })
  }
}
