import { gpc, host } from './config'
import { allowed, save, setState, state } from './store'
import { body, flushAfter } from './transport'
import type { Purpose, Purposes, State } from './types'

const PURPOSES: Purpose[] = ['analytics', 'marketing', 'personalization', 'advertising']

/**
 * Record a decision: purposes by name (or, from TCF, in PURPOSES order); any not given is
 * denied, and advertising always is under GPC. It is posted to /v1/consent, with the visitor's
 * ids only if they were or now are allowed (an opt-in refusal carries none). Then the queue goes
 * out or, without analytics, the queue and every identifier are dropped; the decision itself is
 * kept, so it holds on the next page.
 *
 * The server decides from the ledger in the visitor's ContactDO, so held events go out only once
 * the decision has been answered: sent side by side, a batch could overtake it and be stored
 * without identifiers. keepalive lets the decision outlive a page closed right after the click.
 */
export const consent = (given: Purposes | boolean[], policyVersion?: string, source?: string) => {
  const purposes: Purposes = {}
  PURPOSES.map(
    (purpose, i) =>
      (purposes[purpose] =
        !!((given as Purposes)[purpose] ?? (given as boolean[])[i]) && !(gpc && i > 2)),
  )
  const ids: Partial<State> = allowed() || purposes.analytics ? state : {}
  setState(purposes.analytics ? { ...state, k: purposes } : { k: purposes, q: [] })
  save()
  flushAfter(
    fetch(host + '/v1/consent', {
      method: 'POST',
      keepalive: true,
      body: body({ anonymousId: ids.a, userId: ids.u, purposes, policyVersion, source }),
    }),
  )
}

export interface TCData {
  eventStatus: string
  gdprApplies?: boolean
  purpose: { consents: Record<string, boolean> }
}

/**
 * Listener for the page's IAB TCF v2 CMP: its stored decision on load ('tcloaded') and each one
 * the visitor makes ('useractioncomplete'), not the empty state while its UI is shown
 * ('cmpuishown', the only status that sorts before "t"). Each Cairn purpose needs TCF purpose 1
 * (store/access information on a device, as the ids live in localStorage) and one more:
 * analytics 8 (measure content performance), marketing 7 (measure advertising performance),
 * personalization 5 (personalised content profile), advertising 4 (personalised ads).
 * Where GDPR does not apply (gdprApplies false, not merely unknown), all are granted.
 */
export const onTcfDecision = (data: TCData, success: boolean) =>
  success &&
  data.eventStatus > 't' &&
  consent(
    [...'8754'].map(
      (id) =>
        data.gdprApplies == false || (data.purpose.consents[1]! && data.purpose.consents[id]!),
    ),
    'tcf',
    'tcf',
  )
