import { signal } from '@preact/signals'
import type { ApiList } from './api'
import { request } from './request'

/**
 * A list read page by page through the API cursor: `reload` reads the first page (after the
 * caller's filters changed), `loadMore` appends the next. One copy for the message log and the
 * audit log, which had one each.
 */
export function pagedList<T>(name: string, fetchPage: (after?: string) => Promise<ApiList<T>>) {
  const items = request<T[]>(`${name}.items`)
  const cursor = signal<string | null>(null, { name: `${name}.cursor` })
  const more = request<T[]>(`${name}.more`)
  return {
    items,
    cursor,
    more,
    reload() {
      more.reset()
      void items.run(async () => {
        const page = await fetchPage()
        cursor.value = page.cursor
        return page.items
      })
    },
    async loadMore() {
      const after = cursor.peek()
      if (!after || more.loading.peek()) return
      const page = await more.run(async () => {
        const next = await fetchPage(after)
        cursor.value = next.cursor
        return next.items
      })
      if (page) items.set([...(items.data.peek() ?? []), ...page])
    },
  }
}
