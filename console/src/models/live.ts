import { computed, createModel, signal } from '@preact/signals'
import type { Enrichment } from './contacts'

/** One event of the live stream, whichever of the API's two shapes it came in. */
export interface LiveEvent {
  id: string
  type: string
  /** Track event name, page name or path. */
  title: string
  contactKey?: string
  channel?: string
  country?: string
  device?: string
  /** When it happened, and when it reached the server (the stream's order). */
  timestamp: string
  receivedAt: string
}

type RawLiveEvent = Partial<{
  id: string
  messageId: string
  contactKey: string
  type: string
  event: string
  name: string
  path: string
  channel: string
  country: string
  device: string
  userId: string
  anonymousId: string
  timestamp: string
  receivedAt: string
  enrichment: Enrichment
}>

/** The stream sends compact rows (`contactKey`, `path`…) or full timeline events (`enrichment`). */
export function toLiveEvent(raw: RawLiveEvent): LiveEvent {
  const e = raw.enrichment
  const contactKey =
    raw.contactKey ?? raw.userId ?? (raw.anonymousId ? `anon:${raw.anonymousId}` : undefined)
  const path = raw.path ?? e?.path
  return {
    id: raw.id ?? raw.messageId ?? `${raw.receivedAt}-${contactKey}`,
    type: raw.type ?? 'event',
    title: raw.event || raw.name || path || raw.type || 'event',
    contactKey,
    channel: raw.channel ?? e?.channel,
    country: raw.country ?? e?.country,
    device: raw.device ?? e?.device,
    timestamp: raw.timestamp ?? raw.receivedAt ?? new Date().toISOString(),
    receivedAt: raw.receivedAt ?? raw.timestamp ?? new Date().toISOString(),
  }
}

export type LiveStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unavailable'

/** Events kept on screen; older ones scroll away. */
const KEEP = 200
/** After the server refused the stream, try again this much later. */
const RETRY_MS = 20_000

/** The live event stream (`GET /api/insights/live`, server-sent events named `event`). */
export const LiveModel = createModel(() => {
  const status = signal<LiveStatus>('idle', { name: 'live.status' })
  const events = signal<LiveEvent[]>([], { name: 'live.events' })
  const received = signal(0, { name: 'live.received' })
  let source: EventSource | undefined
  let retry: ReturnType<typeof setTimeout> | undefined
  let listener: ((event: LiveEvent) => void) | undefined

  function open() {
    close()
    status.value = 'connecting'
    const stream = new EventSource('/api/insights/live')
    source = stream
    stream.onopen = () => {
      status.value = 'open'
    }
    stream.addEventListener('event', (message) => {
      let event: LiveEvent
      try {
        event = toLiveEvent(JSON.parse((message as MessageEvent<string>).data) as RawLiveEvent)
      } catch {
        return
      }
      const current = events.peek()
      if (current.some((e) => e.id === event.id)) return
      events.value = [event, ...current].slice(0, KEEP)
      received.value++
      listener?.(event)
    })
    stream.onerror = () => {
      if (stream.readyState === EventSource.CLOSED) {
        // Refused (not offered, forbidden, logged out): EventSource gives up; so do we, for now.
        status.value = 'unavailable'
        stream.close()
        retry = setTimeout(open, RETRY_MS)
      } else {
        status.value = 'reconnecting'
      }
    }
  }

  function close() {
    clearTimeout(retry)
    source?.close()
    source = undefined
  }

  return {
    status,
    events,
    received,
    latest: computed(() => events.value[0], { name: 'live.latest' }),
    connect(onEvent?: (event: LiveEvent) => void) {
      listener = onEvent
      open()
    },
    disconnect() {
      close()
      listener = undefined
      status.value = 'idle'
    },
  }
})

export const live = new LiveModel()
