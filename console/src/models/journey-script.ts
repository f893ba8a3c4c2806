import type { Duration } from '../../../domain/segments/rule'

/**
 * The simulator's script and its answer, pure. The script: a made-up contact (traits as JSON,
 * marketing consent), the events it performs, each `after` a duration from the start, and how
 * long to watch; JSON that does not parse is named by its field and nothing is sent. The
 * answer: the trace as steps, each with what its node would have sent or done.
 */

export interface ScriptedEvent {
  event: string
  /** JSON text of the properties. */
  properties: string
  after: Duration
}

export interface Script {
  traits: string
  marketing: boolean
  events: ScriptedEvent[]
  until: Duration
}

export const EXAMPLE_SCRIPT: Script = {
  traits: JSON.stringify({ firstName: 'Ada', email: 'ada@example.com' }, null, 2),
  marketing: true,
  events: [],
  until: { days: 3 },
}

type Parsed =
  { ok: true; input: Omit<SimulationInput, 'version'> } | { ok: false; errors: string[] }

function object(text: string, field: string, errors: string[]) {
  if (text.trim() === '') return {}
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
    errors.push(`${field}: a JSON object, like {"plan": "pro"}`)
  } catch (error) {
    errors.push(`${field}: ${error instanceof Error ? error.message : String(error)}`)
  }
  return {}
}

/** The request body for a script, or what is wrong with it. */
export function scriptInput(script: Script): Parsed {
  const errors: string[] = []
  const traits = object(script.traits, 'Traits', errors)
  const events = script.events.map((e, i) => {
    if (!e.event.trim()) errors.push(`Event ${i + 1}: name the event`)
    const properties = object(e.properties, `Event ${i + 1} properties`, errors)
    return { event: e.event.trim(), properties, after: e.after }
  })
  if (errors.length > 0) return { ok: false, errors }
  return {
    ok: true,
    input: {
      contact: { traits, consent: { marketing: script.marketing } },
      events,
      until: script.until,
    },
  }
}

/** One step of the trace with what its node would have done at that moment. */
export interface SimulationStep {
  at: string
  node: string
  type: string
  outcome: string
  next?: string
  emails: Simulation['wouldSend']
  effects: Simulation['effects']
}

export function simulationSteps(simulation: Simulation): SimulationStep[] {
  const claimed = new Set<object>()
  const take = <T extends { node: string; at: string }>(items: T[], node: string, at: string) =>
    items.filter((item) => {
      if (claimed.has(item) || item.node !== node || item.at !== at) return false
      claimed.add(item)
      return true
    })
  return simulation.trace.map((step) => ({
    ...step,
    emails: take(simulation.wouldSend, step.node, step.at),
    effects: take(
      simulation.effects.filter((e) => e.kind !== 'email'),
      step.node,
      step.at,
    ),
  }))
}

/** "+1 d 2 h 5 min" from the start of the simulation. */
export function offset(at: string, start: string): string {
  let minutes = Math.round((Date.parse(at) - Date.parse(start)) / 60_000)
  if (!Number.isFinite(minutes) || minutes <= 0) return '+0'
  const days = Math.floor(minutes / 1440)
  minutes -= days * 1440
  const hours = Math.floor(minutes / 60)
  minutes -= hours * 60
  const parts = [days && `${days} d`, hours && `${hours} h`, minutes && `${minutes} min`]
  return `+${parts.filter(Boolean).join(' ')}`
}

export interface SimulationInput {
  version?: number
  contact: { traits: Record<string, unknown>; consent?: { marketing?: boolean } }
  events: { event: string; properties?: Record<string, unknown>; after: Duration }[]
  until: Duration
}

/** The answer of `POST /api/journeys/:id/simulate`. */
export interface Simulation {
  entered: boolean
  reason?: string
  trace: { at: string; node: string; type: string; outcome: string; next?: string }[]
  effects: ({ kind: string; node: string; at: string } & Record<string, unknown>)[]
  wouldSend: {
    at: string
    node: string
    template: string
    subscriptionGroup?: string
    subject?: string
    html?: string
    text?: string
    error?: string
  }[]
  run: {
    state: 'active' | 'completed' | 'exited'
    node: string
    converted: boolean
    reason: string | null
    enteredAt: string
    endedAt: string | null
    wakeAt: string | null
  } | null
  contact: { traits: Record<string, unknown>; lists: string[] }
}

/** A script kept in the URL (`?script=`), or null when the text is not one. */
export function parseScript(text: string): Script | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (!isRecord(value) || typeof value.traits !== 'string' || !Array.isArray(value.events)) {
    return null
  }
  const events = value.events.filter(
    (e): e is ScriptedEvent =>
      isRecord(e) &&
      typeof e.event === 'string' &&
      typeof e.properties === 'string' &&
      isDuration(e.after),
  )
  if (events.length !== value.events.length || !isDuration(value.until)) return null
  return { traits: value.traits, marketing: value.marketing === true, events, until: value.until }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isDuration(value: unknown): value is Duration {
  return (
    isRecord(value) &&
    Object.entries(value).every(
      ([unit, n]) => ['days', 'hours', 'minutes'].includes(unit) && typeof n === 'number',
    )
  )
}
