import { useEffect, useRef, useState } from 'preact/hooks'
import {
  VALUE_OPS,
  convert,
  emptyCondition,
  opTakes,
  parseValue,
  removeAt,
  setAt,
  typeOf,
  withDurationPart,
  withOp,
  type CountCondition,
  type Duration,
  type PropertyCondition,
  type Scalar,
  type ValueOp,
  type ValueType,
} from '../../models/segment-rules'
import type { Named } from '../../models/segments'

/**
 * The inputs a rule is made of. Each is labelled for screen readers (the builder's rows are too
 * dense for visible labels on every field) and reports a whole new value through `onChange`.
 */

export const OP_LABELS: Record<string, string> = {
  eq: '=',
  neq: '≠',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  contains: 'contains',
  in: 'one of',
  exists: 'exists',
  not_exists: 'missing',
  within: 'in the last',
  before: 'older than',
}

const TYPE_LABELS: Record<ValueType, string> = {
  string: 'text',
  number: 'number',
  boolean: 'yes/no',
}

/** A select over a fixed list of choices, each shown by its label when it has one. */
export function ChoiceSelect<T extends string>({
  value,
  choices,
  label,
  labels,
  onChange,
}: {
  value: T
  choices: readonly T[]
  label: string
  labels?: Partial<Record<T, string>>
  onChange: (choice: T) => void
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
      {choices.map((choice) => (
        <option key={choice} value={choice}>
          {labels?.[choice] ?? choice}
        </option>
      ))}
    </select>
  )
}

export function OpSelect<T extends string>({
  value,
  ops,
  label,
  onChange,
}: {
  value: T
  ops: readonly T[]
  label: string
  onChange: (op: T) => void
}) {
  return (
    <ChoiceSelect
      value={value}
      choices={ops}
      label={label}
      labels={OP_LABELS as Partial<Record<T, string>>}
      onChange={onChange}
    />
  )
}

/**
 * The text of a value, committed as typed, kept as typed while the rule holds what it typed
 * ("1.50" stays "1.50" though the rule holds 1.5); a value changed elsewhere replaces it.
 */
function useDraft(value: Scalar, type: ValueType): [string, (text: string) => Scalar] {
  const [text, setText] = useState(String(value))
  const typed = useRef<Scalar>(value)
  useEffect(() => {
    if (value === typed.current) return
    typed.current = value
    setText(String(value))
  }, [value])
  return [
    text,
    (next) => {
      setText(next)
      typed.current = parseValue(next, type)
      return typed.current
    },
  ]
}

/**
 * A dotted path or event name, suggesting those the data holds through the datalist `listId`
 * (rendered once by the caller): any text goes.
 */
export function SuggestInput({
  value,
  label,
  listId,
  placeholder,
  onChange,
  invalid,
}: {
  value: string
  label: string
  listId: string
  placeholder?: string
  onChange: (value: string) => void
  invalid?: boolean
}) {
  return (
    <input
      class="rule-text"
      aria-label={label}
      aria-invalid={invalid || undefined}
      value={value}
      placeholder={placeholder}
      list={listId}
      autoComplete="off"
      spellcheck={false}
      onInput={(e) => onChange(e.currentTarget.value)}
    />
  )
}

function ScalarInput({
  value,
  type,
  label,
  onChange,
  invalid,
}: {
  value: Scalar
  type: ValueType
  label: string
  onChange: (value: Scalar) => void
  invalid?: boolean
}) {
  const [text, typeIn] = useDraft(value, type)
  if (type === 'boolean') {
    return (
      <select
        aria-label={label}
        value={String(value === true)}
        onChange={(e) => onChange(e.currentTarget.value === 'true')}
      >
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    )
  }
  return (
    <input
      class={type === 'number' ? 'rule-number' : 'rule-text'}
      aria-label={label}
      aria-invalid={invalid || undefined}
      inputMode={type === 'number' ? 'decimal' : undefined}
      value={text}
      onInput={(e) => onChange(typeIn(e.currentTarget.value))}
    />
  )
}

/**
 * The value of a condition, shaped by its op: nothing for exists, a list for `in`, one value
 * otherwise; with its type (text, number, yes/no), which decides how it compares.
 */
export function ValueEditor({
  op,
  value,
  label,
  preferred,
  onChange,
  invalid,
}: {
  op: ValueOp
  value: Scalar | Scalar[] | undefined
  label: string
  /** The type the data holds at this path, for a condition with no value yet. */
  preferred?: ValueType
  onChange: (value: Scalar | Scalar[]) => void
  invalid?: boolean
}) {
  const takes = opTakes(op)
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value]
  const blank = list.every((v) => v === '')
  const type = blank && preferred ? preferred : typeOf(list[0])
  const setType = (next: ValueType) => {
    const converted = list.map((v) => convert(v, next))
    onChange(takes === 'list' ? converted : (converted[0] ?? convert('', next)))
  }
  if (takes === 'none') return null
  const typeSelect = (
    <select
      aria-label={`${label}: type`}
      class="rule-type"
      value={type}
      onChange={(e) => setType(e.currentTarget.value as ValueType)}
    >
      {(Object.keys(TYPE_LABELS) as ValueType[]).map((t) => (
        <option key={t} value={t}>
          {TYPE_LABELS[t]}
        </option>
      ))}
    </select>
  )
  if (takes === 'one') {
    return (
      <span class="rule-value">
        <ScalarInput
          value={list[0] ?? ''}
          type={type}
          label={label}
          invalid={invalid}
          onChange={onChange}
        />
        {typeSelect}
      </span>
    )
  }
  return (
    <span class="rule-value rule-list" role="group" aria-label={`${label}: list`}>
      {list.map((item, i) => (
        <span key={i} class="rule-list-item">
          <ScalarInput
            value={item}
            type={type}
            label={`${label} ${i + 1}`}
            invalid={invalid}
            onChange={(v) => onChange(setAt(list, i, v))}
          />
          <button
            type="button"
            class="icon-button"
            aria-label={`Remove ${label} ${i + 1}`}
            onClick={() => onChange(removeAt(list, i))}
          >
            ×
          </button>
        </span>
      ))}
      <button
        type="button"
        class="small-button"
        onClick={() => onChange([...list, convert('', type)])}
      >
        + value
      </button>
      {typeSelect}
    </span>
  )
}

/** Days, hours and minutes; an empty part is left out, all empty is no duration. */
export function DurationEditor({
  value,
  label,
  onChange,
  invalid,
}: {
  value: Duration | undefined
  label: string
  onChange: (value: Duration | undefined) => void
  invalid?: boolean
}) {
  const current = value ?? {}
  return (
    <span class="rule-duration" role="group" aria-label={label}>
      {(['days', 'hours', 'minutes'] as const).map((part) => (
        <label key={part} class="rule-duration-part">
          <input
            type="number"
            min={0}
            step={1}
            class="rule-number"
            aria-invalid={invalid || undefined}
            value={current[part] ?? ''}
            onInput={(e) => {
              const text = e.currentTarget.value
              const next = withDurationPart(current, part, text === '' ? null : Number(text))
              onChange(Object.keys(next).length ? next : undefined)
            }}
          />
          <span class="muted">{part === 'minutes' ? 'min' : part}</span>
        </label>
      ))}
    </span>
  )
}

const COUNT_OPS = ['gte', 'eq', 'lte'] as const
const COUNT_LABELS = { gte: 'at least', eq: 'exactly', lte: 'at most' }

/** How many times: "at least 1" (the default, left out of the rule) unless changed. */
export function CountEditor({
  value,
  label,
  onChange,
  invalid,
}: {
  value: CountCondition | undefined
  label: string
  onChange: (value: CountCondition | undefined) => void
  invalid?: boolean
}) {
  const current = value ?? { op: 'gte', value: 1 }
  const set = (next: CountCondition) =>
    onChange(next.op === 'gte' && next.value === 1 ? undefined : next)
  return (
    <span class="rule-count" role="group" aria-label={label}>
      <select
        aria-label={`${label}: comparison`}
        value={current.op}
        onChange={(e) => set({ ...current, op: e.currentTarget.value as CountCondition['op'] })}
      >
        {COUNT_OPS.map((op) => (
          <option key={op} value={op}>
            {COUNT_LABELS[op]}
          </option>
        ))}
      </select>
      <input
        type="number"
        min={0}
        step={1}
        class="rule-number"
        aria-label={`${label}: times`}
        aria-invalid={invalid || undefined}
        value={current.value}
        onInput={(e) => {
          const n = Number(e.currentTarget.value)
          if (e.currentTarget.value !== '' && Number.isInteger(n)) set({ ...current, value: n })
        }}
      />
      <span class="muted">times</span>
    </span>
  )
}

/**
 * A thing named by id (list, group, template, journey, segment), chosen by name. An id the
 * list does not hold (deleted, or not loaded) stays shown as itself so the rule is not changed
 * behind the user's back.
 */
export function ReferenceSelect({
  value,
  label,
  options,
  placeholder,
  allowNone,
  onChange,
  invalid,
}: {
  value: string
  label: string
  options: readonly Named[] | undefined
  placeholder: string
  /** Offer "any" (no id) as a choice, for an optional field. */
  allowNone?: string
  onChange: (value: string) => void
  invalid?: boolean
}) {
  const known = options ?? []
  const missing = value && !known.some((o) => o.id === value)
  return (
    <select
      aria-label={label}
      aria-invalid={invalid || undefined}
      value={value}
      onChange={(e) => onChange(e.currentTarget.value)}
    >
      {allowNone !== undefined ? (
        <option value="">{allowNone}</option>
      ) : (
        <option value="" disabled>
          {options === undefined ? 'Loading…' : known.length ? placeholder : 'None yet'}
        </option>
      )}
      {missing && <option value={value}>{value}</option>}
      {known.map((o) => (
        <option key={o.id} value={o.id}>
          {o.name === o.id ? o.name : `${o.name} (${o.id})`}
        </option>
      ))}
    </select>
  )
}

/** Conditions on event properties (`where`, `has`), each a path, an op and a value. */
export function ConditionList({
  conditions,
  label,
  properties,
  listId,
  onChange,
  required,
  issueAt,
}: {
  conditions: readonly PropertyCondition[]
  label: string
  properties: readonly { path: string; types: string[] }[]
  listId: string
  onChange: (conditions: PropertyCondition[]) => void
  /** At least one stays (`has`). */
  required?: boolean
  /** Whether an API issue names condition `index`. */
  issueAt: (index: number) => boolean
}) {
  return (
    <div class="rule-conditions" role="group" aria-label={label}>
      {conditions.map((condition, i) => {
        const preferred = preferredType(
          properties.find((p) => p.path === condition.property)?.types,
        )
        const set = (next: PropertyCondition) => onChange(setAt(conditions, i, next))
        return (
          <div key={i} class="rule-condition">
            <span class="muted">{i === 0 ? label : 'and'}</span>
            <SuggestInput
              value={condition.property}
              label={`${label} ${i + 1}: property`}
              placeholder="property"
              listId={listId}
              invalid={issueAt(i)}
              onChange={(property) => set({ ...condition, property })}
            />
            <OpSelect
              value={condition.op}
              ops={VALUE_OPS}
              label={`${label} ${i + 1}: comparison`}
              onChange={(op) => set(withOp(condition, op))}
            />
            <ValueEditor
              op={condition.op}
              value={condition.value}
              label={`${label} ${i + 1}: value`}
              preferred={preferred}
              invalid={issueAt(i)}
              onChange={(value) => set({ ...condition, value })}
            />
            {!(required && conditions.length === 1) && (
              <button
                type="button"
                class="icon-button"
                aria-label={`Remove ${label} ${i + 1}`}
                onClick={() => onChange(removeAt(conditions, i))}
              >
                ×
              </button>
            )}
          </div>
        )
      })}
      <button
        type="button"
        class="small-button"
        onClick={() => onChange([...conditions, emptyCondition()])}
      >
        + {label} condition
      </button>
    </div>
  )
}

/** The type to start a value in: a number if the data holds numbers there, and so on. */
export function preferredType(types: readonly string[] | undefined): ValueType | undefined {
  if (!types?.length) return undefined
  if (types.includes('string')) return 'string'
  if (types.includes('number')) return 'number'
  if (types.includes('boolean')) return 'boolean'
  return undefined
}
