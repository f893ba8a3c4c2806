import { WEEKDAYS, type Weekday } from './definition'

/**
 * The next instant, at or after `now`, when the wall clock in `timeZone` shows `time` (`HH:MM`)
 * on one of `days` (any day when none are named). Local times are turned into instants with the
 * zone's offset at that instant, so a waitUntil "09:00" stays at nine across daylight-saving
 * changes; a time the clocks skip (02:30 on the spring-forward night) comes an hour later.
 */
export function nextLocalTime(
  now: number,
  time: string,
  days: readonly Weekday[] | undefined,
  timeZone: string,
): number {
  const [hour, minute] = time.split(':').map(Number) as [number, number]
  const today = localDate(now, timeZone)
  for (let offset = 0; offset <= 7; offset++) {
    const day = new Date(Date.UTC(today.year, today.month - 1, today.day + offset))
    const weekday = WEEKDAYS[day.getUTCDay()]!
    if (days && days.length > 0 && !days.includes(weekday)) continue
    const wall = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour, minute)
    const at = instantOf(wall, timeZone)
    if (at >= now) return at
  }
  // Unreachable with a valid day list: the same weekday recurs within 7 days.
  throw new Error(`no ${time} on ${days?.join(',')} within a week`)
}

/** The instant whose wall-clock reading in `timeZone` is `wall` (given as if it were UTC). */
function instantOf(wall: number, timeZone: string): number {
  const first = wall - offsetAt(wall, timeZone)
  return wall - offsetAt(first, timeZone)
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const p = localDate(at, timeZone)
  return (
    Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(at / 1000) * 1000
  )
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function localDate(at: number, timeZone: string) {
  let format = formatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
    formatters.set(timeZone, format)
  }
  const parts: Record<string, number> = {}
  for (const part of format.formatToParts(new Date(at))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value)
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour!,
    minute: parts.minute!,
    second: parts.second!,
  }
}
