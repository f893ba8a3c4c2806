import { computed, signal } from '@preact/signals'

/**
 * The console's URL is its state of navigation: every screen has a path, filters live in the
 * query string, and the Worker answers unknown paths with index.html, so deep links survive a
 * reload.
 */
const path = signal(location.pathname, { name: 'router.path' })
const search = signal(location.search, { name: 'router.search' })

export const route = {
  path,
  search,
  segments: computed(() => path.value.split('/').filter(Boolean).map(decodeSegment), {
    name: 'router.segments',
  }),
  query: computed(() => new URLSearchParams(search.value), { name: 'router.query' }),
}

function decodeSegment(part: string) {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

function sync() {
  path.value = location.pathname
  search.value = location.search
}

addEventListener('popstate', sync)

export function navigate(to: string, { replace = false } = {}) {
  const url = new URL(to, location.origin)
  if (url.pathname + url.search === location.pathname + location.search) return
  history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search)
  sync()
  if (!replace) scrollTo(0, 0)
}

/** Path and query string built from parts; empty query values are left out. */
export function href(pathname: string, query: Record<string, string | undefined | null> = {}) {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value)
  const text = params.toString()
  return text ? `${pathname}?${text}` : pathname
}

/** Replaces the query string of the current screen (filters), keeping the path. */
export function setQuery(query: Record<string, string | undefined | null>) {
  navigate(href(location.pathname, query), { replace: true })
}
