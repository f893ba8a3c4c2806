/**
 * Which events are conversions, and what they are worth. Pure: no platform imports.
 */

export interface ConversionDefinition {
  id: string
  name: string
  /** The track event name that converts, e.g. `Order Completed`. */
  eventName: string
  /** Properties that must equal these values (strings, numbers, booleans) for a match. */
  filter: Record<string, string | number | boolean>
  /** Property holding the value; by default `revenue`, then `value`. */
  valueProperty: string | null
}

export interface MatchedConversion {
  definition: ConversionDefinition
  value: number
}

export function matchConversion(
  event: { type: string; event?: string; properties?: Record<string, unknown> },
  definitions: readonly ConversionDefinition[],
): MatchedConversion | null {
  if (event.type !== 'track' || !event.event) return null
  const properties = event.properties ?? {}
  for (const definition of definitions) {
    if (definition.eventName !== event.event) continue
    const matches = Object.entries(definition.filter).every(
      ([key, expected]) => properties[key] === expected,
    )
    if (matches) return { definition, value: valueOf(properties, definition.valueProperty) }
  }
  return null
}

function valueOf(properties: Record<string, unknown>, valueProperty: string | null): number {
  const candidates = valueProperty
    ? [properties[valueProperty]]
    : [properties.revenue, properties.value]
  for (const candidate of candidates) {
    const number = typeof candidate === 'string' ? Number(candidate) : candidate
    if (typeof number === 'number' && Number.isFinite(number) && number >= 0) return number
  }
  return 0
}
