import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import type { Timeline as TimelineModel, TimelineEvent } from '../models/contacts'
import { ErrorNotice } from './common'
import { eventTitle } from './event-text'
import { count, pretty, when } from './format'

/** Row height in pixels; fixed, so the list can place any row without measuring. */
export const ROW_HEIGHT = 28
/** Rows rendered beyond the visible ones, above and below. */
const OVERSCAN = 12
/** Start fetching the next page when the reader is this many rows from the end. */
const PREFETCH_ROWS = 150

/**
 * A contact's events as a virtualised list: only the rows in sight are in the DOM, and the next
 * page is fetched with the API's cursor as the reader scrolls toward it, so 100k events scroll
 * as smoothly as 100. Arrow keys, Page Up/Down, Home and End move the selection; the selected
 * event's full content shows beside the list.
 */
export function Timeline({ timeline }: { timeline: TimelineModel }) {
  const scroller = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [viewport, setViewport] = useState(480)
  const [selected, setSelected] = useState(0)
  const events = timeline.events.value
  const total = events.length
  const loading = timeline.page.loading.value
  const error = timeline.page.error.value

  useEffect(() => {
    if (!timeline.started.peek()) void timeline.loadMore()
  }, [timeline])

  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setViewport(entry.contentRect.height)
    })
    observer.observe(element)
    return () => observer.disconnect()
  }, [])

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN)
  const last = Math.min(total, Math.ceil((scrollTop + viewport) / ROW_HEIGHT) + OVERSCAN)

  useEffect(() => {
    if (!timeline.done.value && !loading && !error && last >= total - PREFETCH_ROWS) {
      void timeline.loadMore()
    }
  }, [last, total, loading, error])

  function select(index: number) {
    const next = Math.min(Math.max(0, index), Math.max(0, total - 1))
    setSelected(next)
    const element = scroller.current
    if (!element) return
    const top = next * ROW_HEIGHT
    if (top < element.scrollTop) element.scrollTop = top
    else if (top + ROW_HEIGHT > element.scrollTop + element.clientHeight) {
      element.scrollTop = top + ROW_HEIGHT - element.clientHeight
    }
  }

  function onKeyDown(event: KeyboardEvent) {
    const page = Math.max(1, Math.floor(viewport / ROW_HEIGHT) - 1)
    const moves: Record<string, number> = {
      ArrowDown: selected + 1,
      ArrowUp: selected - 1,
      PageDown: selected + page,
      PageUp: selected - page,
      Home: 0,
      End: total - 1,
    }
    const next = moves[event.key]
    if (next === undefined) return
    event.preventDefault()
    select(next)
  }

  const rows = []
  for (let i = first; i < last; i++) {
    const e = events[i]!
    rows.push(
      <div
        key={e.id ?? `${i}`}
        id={`event-row-${i}`}
        role="option"
        aria-selected={i === selected}
        class={i === selected ? 'row selected' : 'row'}
        style={{ transform: `translateY(${i * ROW_HEIGHT}px)` }}
        onClick={() => select(i)}
      >
        <span class="c-time">{when(e.timestamp)}</span>
        <span class={`c-type type t-${e.type}`}>{e.type}</span>
        <span class="c-name">{eventTitle(e)}</span>
        <span class="c-channel">{e.enrichment?.channel ?? ''}</span>
        <span class="c-where">
          {[e.enrichment?.country, e.enrichment?.device, e.enrichment?.browser]
            .filter(Boolean)
            .join(' · ')}
        </span>
      </div>,
    )
  }

  const current = events[selected]
  return (
    <div class="timeline">
      <div class="timeline-list">
        <div class="timeline-head" aria-hidden="true">
          <span class="c-time">Time</span>
          <span class="c-type">Type</span>
          <span class="c-name">Event</span>
          <span class="c-channel">Channel</span>
          <span class="c-where">Where</span>
        </div>
        <div
          ref={scroller}
          class="timeline-scroll"
          tabIndex={0}
          role="listbox"
          aria-label={`Timeline, ${count(total)} events loaded, newest first`}
          aria-activedescendant={total ? `event-row-${selected}` : undefined}
          onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
          onKeyDown={onKeyDown}
          data-loaded={total}
        >
          <div class="timeline-spacer" style={{ height: `${total * ROW_HEIGHT}px` }}>
            {rows}
          </div>
        </div>
        <div class="timeline-foot muted small" aria-live="polite">
          {error ? (
            <ErrorNotice error={error} retry={() => void timeline.loadMore()} />
          ) : loading ? (
            `Loading events… ${count(total)} so far`
          ) : timeline.done.value ? (
            total ? (
              `All ${count(total)} events`
            ) : (
              'No events'
            )
          ) : (
            `${count(total)} events loaded; more load as you scroll`
          )}
        </div>
      </div>
      <aside class="event-detail" aria-label="Selected event">
        {current ? <EventDetail event={current} /> : <p class="muted">No event selected.</p>}
      </aside>
    </div>
  )
}

function EventDetail({ event }: { event: TimelineEvent }) {
  const { context, enrichment, properties, traits, ...rest } = event
  return (
    <div>
      <h3>{eventTitle(event)}</h3>
      <p class="muted small">
        {event.type} · {when(event.timestamp)} · received {when(event.receivedAt)}
      </p>
      <Section title="Event" value={rest} />
      {properties && Object.keys(properties).length > 0 && (
        <Section title="Properties" value={properties} />
      )}
      {traits && Object.keys(traits).length > 0 && <Section title="Traits" value={traits} />}
      <Section title="Enrichment" value={enrichment} />
      <Section title="Context" value={context} />
    </div>
  )
}

function Section({ title, value }: { title: string; value: unknown }) {
  return (
    <section>
      <h4>{title}</h4>
      <pre class="json">{pretty(value)}</pre>
    </section>
  )
}
