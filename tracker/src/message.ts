import { uuid } from './id'
import { save, state } from './store'
import { flush } from './transport'
import type { Message, Props } from './types'

// The referrer of the current page view: document.referrer on landing, then the previous URL
// after each single-page navigation.
let referrer = document.referrer
let lastUrl: string | undefined

/**
 * Build a Segment message and queue it. Only what the browser alone knows is sent; the edge
 * derives the rest (path and search from the URL, locale from Accept-Language, ...).
 *
 * Sessions end after 30 minutes without an event, and a new one forgets the old campaign.
 * The campaign is the UTM parameters and ad click ids (gclid, gbraid, wbraid, fbclid, msclkid,
 * ttclid, li_fat_id and the like) of the URL that has any, under their parameter names; the edge
 * renames utm_* to Segment's context.campaign names (utm_campaign -> name, ...).
 *
 * `now` and `campaign` are locals: as parameters they cost 3 fewer bytes than declarations.
 */
export const message = (
  type: Message['type'],
  fields: Props,
  now = Date.now(),
  campaign?: Props,
) => {
  new URLSearchParams(location.search).forEach(
    (value, name) => /^utm_|clk?id$|braid$|^li_fat/.test(name) && ((campaign ||= {})[name] = value),
  )
  if (!(now - state.t! < 18e5)) ((state.s = now), (state.c = {}))
  state.t = now
  state.c = campaign || state.c
  state.q.push({
    type,
    messageId: uuid(),
    timestamp: new Date(now).toISOString(),
    anonymousId: (state.a ||= uuid()),
    userId: state.u,
    ...fields,
    context: {
      page: { url: location.href, referrer, title: document.title },
      campaign: state.c,
      sessionId: state.s,
    },
  }) > 100 && state.q.shift() // the offline queue keeps the newest 100
  save()
  // Flush at once when 10 messages wait, else a second after the last.
  setTimeout(flush, state.q[9] ? 0 : 1e3)
}

/** A page view; the URL, title and referrer are added. */
export const page = (name?: string, properties?: Props) => {
  if (lastUrl) referrer = lastUrl
  lastUrl = location.href
  message('page', { name, properties })
}

/**
 * The automatic page view: on landing, and whenever the URL has changed. Polled, it catches every
 * way a single-page app navigates (pushState, replaceState, popstate, hashchange, and routers
 * that took history.pushState before this file could wrap it) in fewer bytes than wrapping them.
 */
export const autoPage = () => lastUrl != location.href && page()
