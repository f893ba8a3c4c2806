/**
 * Consent rules. Pure: no platform imports. The ContactDO keeps an append-only ledger; the
 * effective state of each purpose is its latest decision across the ledger (which includes
 * the ledgers of every identity merged into the contact), so a withdrawal made under any
 * linked identity applies to the person.
 */

export const PURPOSES = ['analytics', 'marketing', 'personalization', 'advertising'] as const
export type Purpose = (typeof PURPOSES)[number]
export type Purposes = Partial<Record<Purpose, boolean>>
export type ConsentState = Record<Purpose, boolean | null>
export type ConsentMode = 'opt-in' | 'opt-out'

export const CONSENT_METHODS = ['banner', 'api', 'import', 'gpc', 'tcf'] as const
export type ConsentMethod = (typeof CONSENT_METHODS)[number]
/**
 * What a browser can truthfully claim through the public write key (`/v1/consent`): its banner,
 * its IAB TCF CMP, its Global Privacy Control signal. The write key is in every page, so a
 * decision that says it was taken by staff or imported must come through the management API,
 * where the key that made it is known and audited.
 */
export const BROWSER_CONSENT_METHODS = ['banner', 'tcf', 'gpc'] as const
/** Decisions staff record through the management API: taken on the phone, imported from a CRM. */
export const STAFF_CONSENT_METHODS = ['api', 'import'] as const

export interface LedgerEntry {
  at: string
  purposes: Purposes
  policyVersion: string
  source: string
  method: ConsentMethod
}

export function effectiveConsent(ledger: readonly LedgerEntry[]): ConsentState {
  const state: ConsentState = {
    analytics: null,
    marketing: null,
    personalization: null,
    advertising: null,
  }
  const latest: Partial<Record<Purpose, string>> = {}
  for (const entry of ledger) {
    for (const purpose of PURPOSES) {
      const decision = entry.purposes[purpose]
      if (decision === undefined) continue
      const seen = latest[purpose]
      if (seen === undefined || entry.at >= seen) {
        state[purpose] = decision
        latest[purpose] = entry.at
      }
    }
  }
  return state
}

/**
 * Whether events may be stored with the person's identifiers. Opt-in sources need an explicit
 * analytics grant; opt-out sources store until analytics is explicitly withdrawn.
 */
export function mayStoreIdentified(mode: ConsentMode, state: ConsentState): boolean {
  return mode === 'opt-in' ? state.analytics === true : state.analytics !== false
}

/**
 * Whether contacts may be merged into one: decided on their ledgers taken together, as the merged
 * contact's ledger will be, so a grant given as an anonymous visitor lets the sign-in merge, and a
 * withdrawal made under any of the ids (the latest decision) stops it. A merge links identifiers,
 * so it needs what storing identified events needs.
 */
export function mayMerge(mode: ConsentMode, ledgers: readonly (readonly LedgerEntry[])[]): boolean {
  return mayStoreIdentified(mode, effectiveConsent(ledgers.flat()))
}

/**
 * Global Privacy Control (`Sec-GPC: 1`) is a legally binding opt-out of sale/sharing in
 * several jurisdictions: it denies advertising. Returns the ledger change to record, or null
 * when advertising is already denied (so a GPC browser adds one row, not one per event).
 */
export function gpcDecision(state: ConsentState): Purposes | null {
  return state.advertising === false ? null : { advertising: false }
}
