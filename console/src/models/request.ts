import { signal, type ReadonlySignal } from '@preact/signals'
import { asApiError, type ApiError } from './api'

/** One request's state as signals: its latest data, its error, whether it is under way. */
export interface Request<T> {
  data: ReadonlySignal<T | undefined>
  error: ReadonlySignal<ApiError | undefined>
  loading: ReadonlySignal<boolean>
  /** Runs `fetcher`; an older run finishing after a newer one is ignored. */
  run(fetcher: () => Promise<T>, options?: { keepData?: boolean }): Promise<T | undefined>
  set(value: T | undefined): void
  reset(): void
}

export function request<T>(name: string): Request<T> {
  const data = signal<T | undefined>(undefined, { name: `${name}.data` })
  const error = signal<ApiError | undefined>(undefined, { name: `${name}.error` })
  const loading = signal(false, { name: `${name}.loading` })
  let generation = 0

  return {
    data,
    error,
    loading,
    async run(fetcher, { keepData = true } = {}) {
      const mine = ++generation
      loading.value = true
      error.value = undefined
      if (!keepData) data.value = undefined
      try {
        const value = await fetcher()
        if (mine === generation) data.value = value
        return value
      } catch (caught) {
        if (mine === generation) error.value = asApiError(caught)
        return undefined
      } finally {
        if (mine === generation) loading.value = false
      }
    },
    set(value) {
      generation++
      data.value = value
      error.value = undefined
      loading.value = false
    },
    reset() {
      generation++
      data.value = undefined
      error.value = undefined
      loading.value = false
    },
  }
}
