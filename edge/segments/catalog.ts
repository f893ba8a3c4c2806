import { CAIRN_SOURCE } from '../../contracts/stored-event'
import { PAGE_EVENT, SCREEN_EVENT } from '../../domain/segments/rule'

/**
 * What the data holds, for the segment builder's pickers: event names, trait paths and the
 * property paths of each event name. Every read is bounded so the answer stays fast however many
 * events D1 holds: event names come from the daily rollups (one row per day and name, never the
 * events table), trait paths from the most recently seen contacts, property paths from the most
 * recent events. Rare names outside those windows are missing; the builder still takes any name.
 */
export const CATALOG_BOUNDS = {
  /** Days of daily rollups the event names and counts are summed over. */
  eventDays: 90,
  /** Most recently seen contacts whose traits are read. */
  contacts: 1_000,
  /** Most recent events whose properties are read. */
  events: 5_000,
  /** Entries answered per list, the most frequent first. */
  names: 500,
  traits: 500,
  properties: 2_000,
} as const

export type JsonType = 'string' | 'number' | 'boolean' | 'array' | 'null'

export interface CatalogEvent {
  name: string
  count: number
  lastSeen: string
}

export interface CatalogPath {
  path: string
  types: JsonType[]
  /** Contacts (traits) or events (properties) of the sample holding the path. */
  seen: number
}

export interface Catalog {
  events: CatalogEvent[]
  traits: CatalogPath[]
  properties: (CatalogPath & { event: string })[]
  bounds: {
    eventDays: number
    eventsSince: string
    contacts: number
    contactsRead: number
    events: number
    eventsRead: number
  }
}

/** SQLite's json_tree type names, as a rule's value sees them. */
const TYPES: Record<string, JsonType> = {
  text: 'string',
  integer: 'number',
  real: 'number',
  true: 'boolean',
  false: 'boolean',
  array: 'array',
  null: 'null',
}

/**
 * The dotted path of a json_tree `fullkey` (`$.address.city`, `$."first name"`), or null when a
 * rule cannot name it: it runs through an array, or a label holds a dot, quote or backslash
 * (contracts/segment.ts refuses those in a path).
 */
export function dottedPath(fullkey: string): string | null {
  if (!fullkey.startsWith('$')) return null
  const labels: string[] = []
  const part = /\.(?:"([^"\\]*)"|([^."[\\]+))/y
  let at = 1
  while (at < fullkey.length) {
    part.lastIndex = at
    const match = part.exec(fullkey)
    if (!match) return null
    const label = match[1] ?? match[2]!
    if (label === '' || label.includes('.')) return null
    labels.push(label)
    at = part.lastIndex
  }
  return labels.length ? labels.join('.') : null
}

interface PathRow {
  fullkey: string
  type: string
  n: number
}

/**
 * The paths in `sample`'s documents: leaves and arrays, never objects (a rule compares values)
 * nor anything inside an array (a path cannot index one). `n` counts the rows holding the path.
 */
function pathsOf(sample: string, by: '' | 's.name') {
  return `WITH sample AS (${sample})
    SELECT ${by ? `${by} AS event, ` : ''}t.fullkey AS fullkey, t.type AS type,
      COUNT(DISTINCT s.rowid) AS n
    FROM sample AS s, json_tree(s.doc) AS t
    WHERE t.type != 'object' AND t.fullkey != '$' AND instr(t.fullkey, '[') = 0
    GROUP BY ${by ? `${by}, ` : ''}t.fullkey, t.type`
}

/**
 * The most recently seen contacts, then those that still stand for a person (a merged one's
 * traits moved to its survivor): the window is a fixed number of rows, whatever they hold.
 */
const SAMPLED_CONTACTS = `SELECT rowid, traits AS doc FROM
  (SELECT rowid, traits, merged_into FROM contacts ORDER BY last_seen DESC LIMIT ?)
  WHERE merged_into IS NULL AND json_valid(traits)`

/**
 * The most recent events, then those a `performed` rule can count: by people, sent by a
 * client, with a name (page and screen views by their `$page`/`$screen`) and properties.
 */
const SAMPLED_EVENTS = `SELECT rowid,
    CASE type WHEN 'page' THEN ? WHEN 'screen' THEN ? ELSE event END AS name,
    properties AS doc
  FROM (SELECT rowid, type, event, bot, source_id, properties FROM events
    ORDER BY timestamp DESC LIMIT ?)
  WHERE bot = 0 AND source_id != ? AND type IN ('track', 'page', 'screen')
    AND (type != 'track' OR event IS NOT NULL)
    AND properties IS NOT NULL AND json_valid(properties)`

/**
 * One index seek per day and metric of the rollups' key (day, metric, dimension), so the other
 * metrics of those days (pages, referrers, countries…) are never read.
 */
const EVENT_NAMES = `WITH RECURSIVE days(d) AS (
    SELECT ? UNION ALL SELECT date(d, '+1 day') FROM days WHERE d < ?
  )
  SELECT CASE r.metric WHEN 'pageviews' THEN ? ELSE r.dimension END AS name,
    SUM(r.count) AS count, MAX(r.day) AS lastSeen
  FROM days JOIN daily_rollups AS r ON r.day = days.d AND r.metric IN ('event', 'pageviews')
  GROUP BY 1 ORDER BY count DESC, name LIMIT ?`

export async function readCatalog(db: D1Database, now: number): Promise<Catalog> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
  const since = day(now - (CATALOG_BOUNDS.eventDays - 1) * 86_400_000)
  const eventSample = [PAGE_EVENT, SCREEN_EVENT, CATALOG_BOUNDS.events, CAIRN_SOURCE]
  const [events, traits, properties, contactsRead, eventsRead] = await db.batch([
    db.prepare(EVENT_NAMES).bind(since, day(now), PAGE_EVENT, CATALOG_BOUNDS.names),
    db.prepare(pathsOf(SAMPLED_CONTACTS, '')).bind(CATALOG_BOUNDS.contacts),
    db.prepare(pathsOf(SAMPLED_EVENTS, 's.name')).bind(...eventSample),
    db.prepare(`SELECT COUNT(*) AS n FROM (${SAMPLED_CONTACTS})`).bind(CATALOG_BOUNDS.contacts),
    db.prepare(`SELECT COUNT(*) AS n FROM (${SAMPLED_EVENTS})`).bind(...eventSample),
  ])
  return {
    events: (events!.results as unknown as CatalogEvent[]).map((row) => ({
      name: row.name,
      count: row.count,
      lastSeen: row.lastSeen,
    })),
    traits: mergePaths(traits!.results as unknown as PathRow[]).slice(0, CATALOG_BOUNDS.traits),
    properties: propertiesByEvent(
      properties!.results as unknown as (PathRow & { event: string })[],
    ),
    bounds: {
      eventDays: CATALOG_BOUNDS.eventDays,
      eventsSince: since,
      contacts: CATALOG_BOUNDS.contacts,
      contactsRead: (contactsRead!.results[0] as { n: number }).n,
      events: CATALOG_BOUNDS.events,
      eventsRead: (eventsRead!.results[0] as { n: number }).n,
    },
  }
}

/**
 * One entry per dotted path with every type seen; `seen` sums the rows per type, so a path
 * holding a number in one row and a string in another counts both rows.
 */
function mergePaths(rows: readonly PathRow[]): CatalogPath[] {
  const byPath = new Map<string, CatalogPath>()
  for (const row of rows) {
    const path = dottedPath(row.fullkey)
    const type = TYPES[row.type]
    if (path === null || type === undefined) continue
    const entry = byPath.get(path) ?? { path, types: [], seen: 0 }
    if (!entry.types.includes(type)) entry.types.push(type)
    entry.seen += row.n
    byPath.set(path, entry)
  }
  return [...byPath.values()]
    .map((entry) => ({ ...entry, types: entry.types.sort() }))
    .sort((a, b) => b.seen - a.seen || a.path.localeCompare(b.path))
}

function propertiesByEvent(rows: readonly (PathRow & { event: string })[]) {
  const byEvent = new Map<string, PathRow[]>()
  for (const row of rows) byEvent.set(row.event, [...(byEvent.get(row.event) ?? []), row])
  return [...byEvent.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([event, paths]) => mergePaths(paths).map((path) => ({ event, ...path })))
    .slice(0, CATALOG_BOUNDS.properties)
}
