import type { ComponentChildren } from 'preact'
import { useEffect, useId, useRef, useState } from 'preact/hooks'
import type { Duration } from '../../../../domain/segments/rule'

/** The fields the node forms are made of: labelled native controls, usable from the keyboard. */

/**
 * A label and its control, tied by id rather than by nesting: the label's text stays the
 * control's whole name (a wrapping label would add a select's options to it).
 */
function Field({
  label,
  children,
}: {
  label: string
  children: (id: string) => ComponentChildren
}) {
  const id = useId()
  return (
    <div class="journey-field">
      <label for={id}>{label}</label>
      {children(id)}
    </div>
  )
}

export function TextField({
  label,
  value,
  onValue,
  placeholder,
  mono,
}: {
  label: string
  value: string
  onValue: (value: string) => void
  placeholder?: string
  mono?: boolean
}) {
  return (
    <Field label={label}>
      {(id) => (
        <input
          id={id}
          type="text"
          class={mono ? 'mono' : undefined}
          value={value}
          placeholder={placeholder}
          onInput={(event) => onValue(event.currentTarget.value)}
        />
      )}
    </Field>
  )
}

export function TextArea({
  label,
  value,
  onValue,
}: {
  label: string
  value: string
  onValue: (value: string) => void
}) {
  return (
    <Field label={label}>
      {(id) => (
        <textarea
          id={id}
          rows={4}
          value={value}
          onInput={(event) => onValue(event.currentTarget.value)}
        />
      )}
    </Field>
  )
}

/** A number, or undefined while the field is empty. */
export function NumberField({
  label,
  value,
  onValue,
  min,
}: {
  label: string
  value: number | undefined
  onValue: (value: number | undefined) => void
  min?: number
}) {
  return (
    <Field label={label}>
      {(id) => (
        <input
          id={id}
          type="number"
          min={min}
          value={value ?? ''}
          onInput={(event) => {
            const text = event.currentTarget.value
            onValue(text === '' ? undefined : Number(text))
          }}
        />
      )}
    </Field>
  )
}

export function DurationField({
  legend,
  value,
  onValue,
}: {
  legend: string
  value: Duration
  onValue: (value: Duration) => void
}) {
  const set = (unit: keyof Duration) => (count: number | undefined) => {
    const next = { ...value }
    if (count === undefined) delete next[unit]
    else next[unit] = count
    onValue(next)
  }
  return (
    <fieldset class="journey-duration">
      <legend>{legend}</legend>
      <NumberField label="days" value={value.days} onValue={set('days')} min={0} />
      <NumberField label="hours" value={value.hours} onValue={set('hours')} min={0} />
      <NumberField label="minutes" value={value.minutes} onValue={set('minutes')} min={0} />
    </fieldset>
  )
}

/** A choice among options; a value not among them (a deleted template) stays listed. */
export function SelectField<T extends string>({
  label,
  value,
  options,
  onValue,
  empty,
}: {
  label: string
  value: T | ''
  options: readonly { value: T; label: string }[]
  onValue: (value: T | '') => void
  /** The label of the empty choice, when the field may be left empty. */
  empty?: string
}) {
  const known = value === '' || options.some((option) => option.value === value)
  return (
    <Field label={label}>
      {(id) => (
        <select
          id={id}
          value={value}
          onChange={(event) => onValue(event.currentTarget.value as T | '')}
        >
          {(empty !== undefined || value === '') && <option value="">{empty ?? '—'}</option>}
          {!known && <option value={value}>{value} (unknown)</option>}
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  )
}

/** Where a slot leads: any node of the journey, or nowhere yet. */
export function TargetField({
  label,
  value,
  ids,
  onValue,
}: {
  label: string
  value: string
  ids: string[]
  onValue: (value: string) => void
}) {
  return (
    <SelectField
      label={label}
      value={value}
      options={ids.map((id) => ({ value: id, label: id }))}
      onValue={onValue}
      empty="— not connected —"
    />
  )
}

/**
 * JSON typed as text: the value changes only when the text parses and passes `check`;
 * until then the parse error shows under the field. Empty text is `undefined` when `optional`.
 * A value changed from elsewhere (another node, a row removed above) replaces the text.
 */
export function JsonField<T>({
  label,
  value,
  onValue,
  check,
  optional,
  placeholder,
}: {
  label: string
  value: T | undefined
  onValue: (value: T | undefined) => void
  check: (parsed: unknown) => string | null
  optional?: boolean
  placeholder?: string
}) {
  const pretty = (v: T | undefined) => (v === undefined ? '' : JSON.stringify(v, null, 2))
  const [text, setText] = useState(() => pretty(value))
  const [error, setError] = useState<string | null>(null)
  const incoming = JSON.stringify(value ?? null)
  const known = useRef(incoming)
  useEffect(() => {
    if (incoming === known.current) return
    known.current = incoming
    setText(pretty(value))
    setError(null)
  }, [incoming])
  const emit = (parsed: T | undefined) => {
    known.current = JSON.stringify(parsed ?? null)
    onValue(parsed)
  }
  const read = (input: string) => {
    setText(input)
    if (input.trim() === '' && optional) {
      setError(null)
      emit(undefined)
      return
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(input)
    } catch (failure) {
      setError(`not JSON: ${(failure as Error).message}`)
      return
    }
    const problem = check(parsed)
    setError(problem)
    if (!problem) emit(parsed as T)
  }
  return (
    <Field label={label}>
      {(id) => (
        <>
          <textarea
            id={id}
            class="mono"
            rows={Math.min(10, Math.max(3, text.split('\n').length))}
            value={text}
            placeholder={placeholder}
            aria-invalid={error ? true : undefined}
            onInput={(event) => read(event.currentTarget.value)}
          />
          {error && (
            <span class="bad-text" role="alert">
              {error}
            </span>
          )}
        </>
      )}
    </Field>
  )
}

export const isObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? null : 'an object {…}'

export const isArray = (value: unknown) => (Array.isArray(value) ? null : 'a list […]')

/** A list of rows (cases, paths, actions) each with its own fields and a remove button. */
export function Rows<T>({
  legend,
  items,
  row,
  onItems,
  fresh,
  min = 1,
  noun,
}: {
  legend: string
  items: T[]
  row: (item: T, index: number, set: (item: T) => void) => ComponentChildren
  onItems: (items: T[]) => void
  fresh: () => T
  min?: number
  noun: string
}) {
  return (
    <fieldset class="journey-rows">
      <legend>{legend}</legend>
      {items.map((item, i) => (
        <div class="journey-row" key={i}>
          {row(item, i, (changed) => onItems(items.map((old, j) => (j === i ? changed : old))))}
          <button
            type="button"
            class="small-button danger"
            disabled={items.length <= min}
            onClick={() => onItems(items.filter((_, j) => j !== i))}
          >
            Remove {noun} {i + 1}
          </button>
        </div>
      ))}
      <button type="button" class="small-button" onClick={() => onItems([...items, fresh()])}>
        Add a {noun}
      </button>
    </fieldset>
  )
}
