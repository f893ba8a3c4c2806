import { drizzle } from 'drizzle-orm/d1'
import { eq } from 'drizzle-orm'
import { settings } from './schema'

/** Deployment settings (retention, channel rules, attribution) as JSON values by key. */
export async function readSetting<T>(db: D1Database, key: string): Promise<T | undefined> {
  const [row] = await drizzle(db).select().from(settings).where(eq(settings.key, key))
  return row?.value as T | undefined
}

export async function writeSetting<T>(db: D1Database, key: string, value: T): Promise<T> {
  const updatedAt = new Date().toISOString()
  await drizzle(db)
    .insert(settings)
    .values({ key, value, updatedAt })
    .onConflictDoUpdate({ target: settings.key, set: { value, updatedAt } })
  return value
}
