import { optIn } from './config'
import type { State } from './types'

let stored: Partial<State> | undefined
try {
  stored = JSON.parse(localStorage.cairn)
} catch {}

export let state: State = { q: [], ...stored }

export const setState = (next: State) => (state = next)

/** May events be recorded? An explicit decision wins; without one the source's mode decides. */
export const allowed = () => state.k?.analytics ?? !optIn

/**
 * Persist under the localStorage key `cairn`. Without analytics consent only a decision is
 * kept, never an identifier or a message; before any decision (opt-in) nothing is written.
 */
export const save = () => {
  try {
    if (allowed() || state.k)
      localStorage.cairn = JSON.stringify(allowed() ? state : { k: state.k })
  } catch {}
}
