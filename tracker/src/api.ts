import { consent } from './consent'
import { message, page } from './message'
import { save, setState, state } from './store'
import type { Props } from './types'

/** `window.cairn`. */
export const api = {
  /** A page view; the URL, title and referrer are added. */
  page,

  track: (event: string, properties?: Props) => message('track', { event, properties }),

  /**
   * Who the visitor is: `identify(userId, traits?)`, or `identify(traits)` for the current user.
   * The server links earlier anonymous events to `userId`.
   */
  identify(userId?: string | Props, traits?: Props) {
    if (typeof userId == 'object') ((traits = userId), (userId = state.u))
    state.u = userId
    message('identify', { traits })
  },

  group: (groupId: string, traits?: Props) => message('group', { groupId, traits }),

  /** Link `previousId` (default: the current user or anonymous id) to `userId`. */
  alias: (userId: string, previousId?: string) =>
    message('alias', { userId, previousId: previousId || state.u || state.a }),

  consent,

  /** Forget the visitor (logout): ids, session and campaign. The consent and the queue stay. */
  reset() {
    setState({ k: state.k, q: state.q })
    save()
  },
}
