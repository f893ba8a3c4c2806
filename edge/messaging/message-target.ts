import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import {
  ALL_MARKETING_GROUP,
  TRANSACTIONAL_GROUP,
  type TemplateKind,
} from '../../contracts/messaging'
import { subscriptionGroups, templates } from '../db/schema'
import { ApiError } from '../errors'

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
  const [template] = await drizzle(db)
    .select({ id: templates.id, kind: templates.kind, groupId: templates.groupId })
    .from(templates)
    .where(eq(templates.id, templateId))
  if (!template) throw new ApiError(404, 'not_found', `No template ${templateId}`)
  const kind = template.kind as TemplateKind
  const groupId =
    template.groupId ?? (kind === 'marketing' ? ALL_MARKETING_GROUP : TRANSACTIONAL_GROUP)
  if (groupId === ALL_MARKETING_GROUP || !template.groupId) {
    return { templateId, kind, groupId, groupDefault: true }
  }
  const [group] = await drizzle(db)
    .select({ defaultSubscribed: subscriptionGroups.defaultSubscribed })
    .from(subscriptionGroups)
    .where(eq(subscriptionGroups.id, groupId))
  return { templateId, kind, groupId, groupDefault: group?.defaultSubscribed ?? false }
}
