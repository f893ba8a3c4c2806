import { ConsentLedger } from '../consent-ledger'
import { ContactTouches } from '../contact-attribution'
import { ContactCounters } from '../contact-counters'
import type { ContactMeta } from '../contact-meta'
import { DataKeys } from './data-keys'
import { Events } from './events'
import { Groups } from './groups'
import { Identities } from './identities'
import { Journeys } from './journeys'
import { Memberships } from './memberships'
import { Messaging } from './messaging'
import { Predictions } from './predictions'
import { Traits } from './traits'

/**
 * The contact's state, one facet per slice (facet.ts), in the order a merge absorbs them: events
 * first, which bring their counts, traits and links as they are stored again.
 */
export function createFacets(sql: SqlStorage, meta: ContactMeta) {
  return {
    events: new Events(sql),
    traits: new Traits(sql),
    groups: new Groups(sql),
    identities: new Identities(sql),
    dataKeys: new DataKeys(sql),
    consent: new ConsentLedger(sql),
    touches: new ContactTouches(sql, meta),
    counters: new ContactCounters(sql),
    messaging: new Messaging(sql),
    predictions: new Predictions(sql, meta),
    journeys: new Journeys(sql),
    // Last: a merge absorbs memberships after everything they are evaluated on.
    memberships: new Memberships(sql),
  }
}

export type ContactFacets = ReturnType<typeof createFacets>

/** Everything an anonymous contact hands to the identified contact that absorbs it, by facet. */
export type HandOver = {
  [K in keyof ContactFacets]: ReturnType<ContactFacets[K]['handOver']>
}

/** What a contact that never stored anything hands over. */
export const EMPTY_HAND_OVER: HandOver = {
  events: [],
  traits: { traits: [], traitChanges: [] },
  groups: [],
  identities: [],
  dataKeys: [],
  consent: [],
  touches: { touches: [], lastActivity: null },
  counters: null,
  messaging: { messages: [], messageEvents: [], subscriptions: [] },
  predictions: null,
  journeys: { runs: [], steps: [] },
  memberships: [],
}
