import { host, writeKey } from './config'
import { allowed, save, state } from './store'

declare const VERSION: string

/** A request is in flight or a retry is waiting. */
let busy: unknown
let attempts = 0

/**
 * Request bodies are strings, so fetch labels them text/plain: a "simple" request,
 * for which the browser sends no CORS preflight.
 */
export const body = (fields: object) => JSON.stringify({ ...fields, writeKey })

/**
 * Send the oldest queued messages. They leave the persisted queue only once the server has
 * answered for them, so a send cut short by a closing page is repeated on the next page load
 * (the server stores a messageId once). Nothing goes out before `allowed()`.
 *
 * `now` (the page is being hidden or closed, or the network is back): send even while another
 * request or a retry is pending, with `keepalive` so that the request outlives the page.
 * Ordinary sends go without it, as keepalive caps a body at 64 KB.
 *
 * What is the same for every message travels once, in the batch's `context`, which the server
 * merges into each message's (Segment's batch semantics).
 */
export const flush = (now?: unknown) => {
  // 20 per request keeps a keepalive body within the browser's 64 KB allowance.
  const batch = state.q.slice(0, 20)
  if (allowed() && batch[0] && (now || !busy)) {
    busy = 1
    fetch(host + '/v1/batch', {
      method: 'POST',
      keepalive: now as boolean, // any value converts, as for every WebIDL boolean
      body: body({
        batch,
        sentAt: new Date().toISOString(),
        context: {
          library: { name: 'cairn.js', version: VERSION },
          screen: { width: screen.width, height: screen.height },
          // The decision in force when sent, for the record: the server decides by its ledger.
          consent: state.k,
        },
      }),
    }).then(
      // 429 and 5xx are worth retrying; other answers are final (a message the server
      // rejected would be rejected again), so those messages leave the queue.
      (res) =>
        res.status > 428
          ? retry(res.headers.get('retry-after'))
          : ((busy = attempts = 0),
            (state.q = state.q.filter((message) => !batch.includes(message))),
            save(),
            flush()),
      retry,
    )
  }
}

/**
 * Hold the queue until `request` (a consent decision) is answered, whatever the answer: without
 * a recorded decision the server still counts the events, only without identifiers.
 */
export const flushAfter = (request: Promise<unknown>) => {
  busy = 1
  const release = () => flush((busy = 0))
  request.then(release, release)
}

/**
 * Retry after Retry-After seconds when the server gives them, else after 2 s times the number of
 * failed attempts: linear backoff, gentler than a capped exponential one over a long outage.
 */
const retry = (after?: unknown) =>
  setTimeout(() => flush((busy = 0)), +(after as string) * 1e3 || 2e3 * ++attempts)
