import type { Duration } from '../../../../domain/segments/rule'

const UNITS = [
  ['days', 'd'],
  ['hours', 'h'],
  ['minutes', 'min'],
] as const

/** Days, hours and minutes; a unit left at 0 is left out of the duration. */
export function DurationInput({
  label,
  value,
  onChange,
}: {
  label: string
  value: Duration
  onChange: (next: Duration) => void
}) {
  return (
    <fieldset class="duration" aria-label={label}>
      <legend>{label}</legend>
      {UNITS.map(([unit, short]) => (
        <label key={unit}>
          <input
            type="number"
            min={0}
            value={value[unit] ?? 0}
            aria-label={`${label}: ${unit}`}
            onInput={(e) => {
              const n = Math.max(0, Math.floor(Number(e.currentTarget.value) || 0))
              const { [unit]: _, ...rest } = value
              onChange(n > 0 ? { ...rest, [unit]: n } : rest)
            }}
          />
          <span aria-hidden="true">{short}</span>
        </label>
      ))}
    </fieldset>
  )
}
