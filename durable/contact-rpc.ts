import type { ContactProfile } from '../contracts/contact-profile'
import type { StoredEvent } from '../contracts/stored-event'
import type { ConsentMode, ConsentState } from '../domain/consent'
import type { LedgerRow } from './consent-ledger'
import type { TimelinePage } from './facets/events'
import type { HandOver } from './facets'

/** What the ContactDO's use cases take and answer (its RPC surface; see contact-client.ts). */

export interface IngestOptions {
  consentMode: ConsentMode
  /** The request carried `Sec-GPC: 1`. */
  gpc: boolean
  /**
   * The version of the conversion definitions and fitted weights that credit conversions as they
   * happen; the object reads them when it moves (contact-configuration.ts).
   */
  attributionVersion: string
  /** The version of the segment definitions (contact-segments.ts), read when it moves. */
  segmentsVersion: string
  /** The version of the prediction settings and fit (contact-predictions.ts), read when it moves. */
  predictionsVersion: string
}

export interface IngestResult {
  /** The contact that finally stored the events (differs from the target after a merge). */
  contactKey: string
  stored: number
  duplicates: number
  /** Counted without identifiers only: the person has not consented to analytics. */
  withheld: number
  /** Dropped: the person was erased and their identifiers are suppressed. */
  suppressed: number
}

export interface ConsentView {
  current: ConsentState
  ledger: LedgerRow[]
}

/**
 * What became of a consent decision: appended, already in force (CMPs resend theirs on every
 * page), or not stored because the person was erased and their identifiers are suppressed.
 */
export type ConsentOutcome =
  ({ status: 'recorded' | 'repeated'; contactKey: string } & ConsentView) | { status: 'suppressed' }

/** What an erasure removed from this object, and the identifiers linked to it. */
export interface ErasureReport {
  key: string | null
  mergedInto: string | null
  identities: { kind: string; value: string }[]
  removed: Record<string, number>
}

export interface ContactExport {
  profile: ContactProfile
  events: StoredEvent[]
  consent: ConsentView
}

/** What an identified contact offers an anonymous one it asks to absorb (see `handOver`). */
export interface MergeTerms {
  consentMode: ConsentMode
  /** The claimant's ledger, and those of the other contacts it merges in the same step. */
  ledger: LedgerRow[]
}

/**
 * Why an anonymous contact stays where it is: it was erased, another identified contact
 * absorbed it already, or the consent of the contacts taken together does not allow the merge.
 */
export type HandOverRefusal = 'erased' | 'claimed' | 'no_consent'

export type HandOverResult =
  | {
      merged: true
      state: HandOver
      /** Nothing was ever stored there, so nothing is left to drop: no `completeHandOver`. */
      pointerOnly: boolean
    }
  | { merged: false; reason: HandOverRefusal }

/** The ledger an anonymous contact would bring into a merge, or why it would not join. */
export type MergeConsent =
  { available: true; ledger: LedgerRow[] } | { available: false; reason: HandOverRefusal }

export type { ContactProfile, HandOver, TimelinePage }

export type ProfileResult =
  { found: true; profile: ContactProfile } | { found: false; mergedInto?: string }
