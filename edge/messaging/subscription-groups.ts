import { asc, eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { ALL_MARKETING_GROUP } from '../../contracts/messaging'
import { prepare } from '../db/raw'
import { subscriptionGroups } from '../db/schema'
import { ApiError } from '../errors'

/**
 * Subscription groups (newsletter, product updates …): what a marketing template belongs to and
 * what a contact opts into or out of. `marketing` (all marketing) exists without a row: leaving
 * it stops every marketing message, and everyone with marketing consent is in it until they do.
 */
export interface SubscriptionGroup {
  id: string
  name: string
  /** Whether a contact who never chose is subscribed (opt-out) or not (opt-in). */
  defaultSubscribed: boolean
  /** null for the built-in all-marketing group. */
  createdAt: string | null
}

export const GROUP_LIMITS = { groups: 100, nameChars: 100 } as const

export const ALL_MARKETING: SubscriptionGroup = {
  id: ALL_MARKETING_GROUP,
  name: 'All marketing',
  defaultSubscribed: true,
  createdAt: null,
}

/** All marketing first, then the groups made, oldest first. */
export async function listSubscriptionGroups(db: D1Database): Promise<SubscriptionGroup[]> {
  const rows = await drizzle(db)
    .select()
    .from(subscriptionGroups)
    .orderBy(asc(subscriptionGroups.createdAt), asc(subscriptionGroups.id))
  return [ALL_MARKETING, ...rows]
}

export async function subscriptionGroupExists(db: D1Database, id: string): Promise<boolean> {
  if (id === ALL_MARKETING_GROUP) return true
  const [row] = await drizzle(db)
    .select({ id: subscriptionGroups.id })
    .from(subscriptionGroups)
    .where(eq(subscriptionGroups.id, id))
  return row !== undefined
}

/** A new group; 409 `group_exists` for a taken id (all marketing's among them) or past the limit. */
export async function createSubscriptionGroup(
  db: D1Database,
  group: Omit<SubscriptionGroup, 'createdAt'>,
): Promise<SubscriptionGroup> {
  if (group.id === ALL_MARKETING_GROUP) throw groupExists(group.id)
  const created = { ...group, createdAt: new Date().toISOString() }
  const table = subscriptionGroups
  // One statement counts and inserts, so concurrent requests cannot pass the limit together.
  const insert = sql`INSERT INTO ${table} (id, name, default_subscribed, created_at)
    SELECT ${created.id}, ${created.name}, ${created.defaultSubscribed ? 1 : 0}, ${created.createdAt}
    WHERE (SELECT COUNT(*) FROM ${table}) < ${GROUP_LIMITS.groups}
    ON CONFLICT (id) DO NOTHING`
  const { meta } = await prepare(db, insert).run()
  if (meta.changes === 0) {
    if (await subscriptionGroupExists(db, group.id)) throw groupExists(group.id)
    throw new ApiError(
      409,
      'limit_reached',
      `There are already ${GROUP_LIMITS.groups} subscription groups, the limit`,
    )
  }
  return created
}

function groupExists(id: string) {
  return new ApiError(409, 'group_exists', `There is already a subscription group ${id}`)
}
