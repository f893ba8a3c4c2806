import { drizzle } from 'drizzle-orm/d1'
import { and, desc, eq } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import { decodeCursor, olderThan, pageOf } from './keyset'
import { listMembers, segmentMembers } from './schema'

/** A membership table: who belongs to what (segment_members, list_members), with since when. */
interface MembershipTable {
  table: typeof segmentMembers | typeof listMembers
  owner: SQLiteColumn
  contactKey: SQLiteColumn
  since: SQLiteColumn
}

export const SEGMENT_MEMBERS: MembershipTable = {
  table: segmentMembers,
  owner: segmentMembers.segmentId,
  contactKey: segmentMembers.contactKey,
  since: segmentMembers.since,
}

export const LIST_MEMBERS: MembershipTable = {
  table: listMembers,
  owner: listMembers.listId,
  contactKey: listMembers.contactKey,
  since: listMembers.addedAt,
}

type Member = { contactKey: string; since: string }

/** One page of the members of `ownerId`, by contact key descending (keyset on the key). */
export async function memberPage<Item = Member>(
  db: D1Database,
  members: MembershipTable,
  ownerId: string,
  page: { limit: number; cursor?: string },
  item: (row: Member) => Item = (row) => row as Item,
) {
  const after = decodeCursor(page.cursor, ['string'])
  const rows = await drizzle(db)
    .select({ contactKey: members.contactKey, since: members.since })
    .from(members.table)
    .where(
      and(eq(members.owner, ownerId), after ? olderThan([members.contactKey], after) : undefined),
    )
    .orderBy(desc(members.contactKey))
    .limit(page.limit + 1)
  return pageOf(rows as Member[], page.limit, item, (row) => [row.contactKey])
}
