import type { ComponentType, JSX } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { asApiError } from '../models/api'
import { ErrorNotice, Loading } from './common'

/**
 * A screen whose code loads on first use, so the initial bundle stays small: the journey
 * builder and the other automation screens are separate chunks fetched when opened.
 */
export function lazyScreen<P extends object>(
  label: string,
  load: () => Promise<{ default: ComponentType<P> }>,
): (props: P) => JSX.Element {
  let loaded: ComponentType<P> | undefined
  let pending: Promise<ComponentType<P>> | undefined
  const fetchOnce = () => (pending ??= load().then((module) => (loaded = module.default)))

  return function LazyScreen(props: P) {
    const [, setReady] = useState(loaded !== undefined)
    const [failure, setFailure] = useState<unknown>()
    useEffect(() => {
      if (loaded) return
      // A component is a function, which setState would call as an updater: say only "ready".
      fetchOnce().then(
        () => setReady(true),
        (error: unknown) => {
          pending = undefined
          setFailure(error)
        },
      )
    }, [])
    if (loaded) {
      const Screen = loaded
      return <Screen {...props} />
    }
    if (failure) {
      return (
        <ErrorNotice
          title={`The ${label} screen could not be loaded`}
          error={asApiError(failure)}
          retry={() => location.reload()}
        />
      )
    }
    return <Loading label={`Opening ${label}…`} />
  }
}
