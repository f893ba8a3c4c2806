import type { AnchorHTMLAttributes, ComponentChildren, TableHTMLAttributes } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from '../models/api'
import type { Request } from '../models/request'
import { navigate } from '../models/router'
import { PRESETS, presetOf, lastDays, type Period } from '../models/period'
import { count } from './format'

type AnchorProps = AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }

/** A real link (middle-click, copy address) that moves within the console without a reload. */
export function Link({ href, onClick, ...props }: AnchorProps) {
  return (
    <a
      {...props}
      href={href}
      onClick={(event) => {
        onClick?.(event)
        if (
          event.defaultPrevented ||
          event.button !== 0 ||
          event.metaKey ||
          event.ctrlKey ||
          event.shiftKey ||
          event.altKey
        )
          return
        event.preventDefault()
        navigate(href)
      }}
    />
  )
}

/** The screen title; focused after navigation so keyboard and screen-reader users land here. */
export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null)
  // A new screen moves focus to its title, as a page load would; tabs and filters keep it.
  useEffect(() => {
    ref.current?.focus({ preventScroll: true })
  }, [title])
  useEffect(() => {
    document.title = `${title} · Cairn`
  }, [title])
  return (
    <header class="page-header">
      <h1 tabIndex={-1} ref={ref}>
        {title}
      </h1>
      {children && <div class="page-actions">{children}</div>}
    </header>
  )
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  )
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>
}

/** A dense table with one row per item, or `empty` when there are none. */
export function DenseTable<T>({
  items,
  empty,
  head,
  row,
  ...attributes
}: {
  items: readonly T[]
  empty: ComponentChildren
  /** The header cells. */
  head: ComponentChildren
  row: (item: T, index: number) => ComponentChildren
} & Omit<TableHTMLAttributes, 'rows'>) {
  if (items.length === 0) return <Empty>{empty}</Empty>
  return (
    <table class="dense" {...attributes}>
      <thead>
        <tr>{head}</tr>
      </thead>
      <tbody>{items.map((item, index) => row(item, index))}</tbody>
    </table>
  )
}

/** A paged list's end: how many rows are shown, and the next page through the API cursor. */
export function ListFooter({
  shown,
  list,
}: {
  shown: number
  list: {
    cursor: { value: string | null }
    more: Request<unknown>
    loadMore(): Promise<unknown>
  }
}) {
  const { more } = list
  return (
    <div class="list-footer">
      <span class="muted small">{count(shown)} shown</span>
      {list.cursor.value && (
        <button type="button" onClick={() => void list.loadMore()} disabled={more.loading.value}>
          {more.loading.value ? 'Loading…' : 'Load more'}
        </button>
      )}
      {more.error.value && <ErrorNotice error={more.error.value} />}
    </div>
  )
}

export function ErrorNotice({
  error,
  title,
  retry,
}: {
  error: ApiError
  title?: string
  retry?: () => void
}) {
  return (
    <div class="state error" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <span>
        {error.message}
        {error.status ? (
          <code class="muted">
            {' '}
            {error.status} {error.code}
          </code>
        ) : null}
      </span>
      {retry && (
        <button type="button" class="link-button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  )
}

/**
 * A request's three states: loading (the first time), error, and data; `isEmpty` decides when
 * to show `empty` instead of the content.
 */
export function Async<T>({
  req,
  children,
  empty,
  isEmpty,
  retry,
  errorTitle,
  loadingLabel,
}: {
  req: Request<T>
  children: (data: T) => ComponentChildren
  empty?: ComponentChildren
  isEmpty?: (data: T) => boolean
  retry?: () => void
  errorTitle?: (error: ApiError) => string | undefined
  loadingLabel?: string
}) {
  const error = req.error.value
  const data = req.data.value
  if (error) return <ErrorNotice error={error} retry={retry} title={errorTitle?.(error)} />
  if (data === undefined) return req.loading.value ? <Loading label={loadingLabel} /> : null
  if (empty !== undefined && (isEmpty ? isEmpty(data) : Array.isArray(data) && !data.length)) {
    return <Empty>{empty}</Empty>
  }
  return <>{children(data)}</>
}

export function Tabs({
  items,
  label,
}: {
  items: { href: string; label: string; active: boolean }[]
  label: string
}) {
  return (
    <nav class="tabs" aria-label={label}>
      {items.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          class={item.active ? 'tab active' : 'tab'}
          aria-current={item.active ? 'page' : undefined}
        >
          {item.label}
        </Link>
      ))}
    </nav>
  )
}

/** Preset periods ending today, or any two days. */
export function PeriodPicker({
  period,
  onChange,
}: {
  period: Period
  onChange: (period: Period) => void
}) {
  const [from, setFrom] = useState(period.from)
  const [to, setTo] = useState(period.to)
  useEffect(() => {
    setFrom(period.from)
    setTo(period.to)
  }, [period.from, period.to])
  const preset = presetOf(period)
  const valid = from && to && from <= to
  return (
    <form
      class="period"
      aria-label="Period"
      onSubmit={(event) => {
        event.preventDefault()
        if (valid) onChange({ from, to })
      }}
    >
      <div class="segmented" role="group" aria-label="Preset periods">
        {PRESETS.map((p) => (
          <button
            key={p.days}
            type="button"
            aria-pressed={preset === p.days}
            onClick={() => onChange(lastDays(p.days))}
          >
            {p.label}
          </button>
        ))}
      </div>
      <label>
        <span class="sr-only">From</span>
        <input
          type="date"
          value={from}
          max={to}
          required
          onInput={(e) => setFrom(e.currentTarget.value)}
        />
      </label>
      <span aria-hidden="true">–</span>
      <label>
        <span class="sr-only">To</span>
        <input
          type="date"
          value={to}
          min={from}
          required
          onInput={(e) => setTo(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={!valid || (from === period.from && to === period.to)}>
        Apply
      </button>
    </form>
  )
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false)
  return (
    <button
      type="button"
      class="copy"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text)
          setCopied(true)
          setTimeout(() => setCopied(false), 1500)
        } catch {
          setCopied(false)
        }
      }}
    >
      <span aria-live="polite">{copied ? 'Copied' : label}</span>
    </button>
  )
}

export function Badge({
  tone = 'neutral',
  children,
}: {
  tone?: string
  children: ComponentChildren
}) {
  return <span class={`badge ${tone}`}>{children}</span>
}

/** A ranked list (top pages, referrers…) with bars relative to its first row. */
export function RankedTable({
  title,
  rows,
  nameLabel = 'Name',
}: {
  title: string
  rows: { name: string; count: number }[]
  nameLabel?: string
}) {
  const max = rows.reduce((m, r) => Math.max(m, r.count), 0) || 1
  return (
    <section class="panel ranked" aria-label={title}>
      <h2>{title}</h2>
      {rows.length === 0 ? (
        <p class="muted small">No data in this period.</p>
      ) : (
        <table class="dense">
          <thead>
            <tr>
              <th scope="col">{nameLabel}</th>
              <th scope="col" class="num">
                Count
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.name}>
                <td class="bar-cell" title={row.name}>
                  <span class="bar" style={{ width: `${(row.count / max) * 100}%` }} />
                  <span class="bar-label">{row.name || '(none)'}</span>
                </td>
                <td class="num">{count(row.count)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

/** A definition list of label/value pairs. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd title={typeof value === 'string' ? value : undefined}>{value}</dd>
        </div>
      ))}
    </dl>
  )
}
