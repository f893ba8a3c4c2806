// Settings, read once from the embedding <script> tag. `document.currentScript` is set for
// classic scripts, `defer` and dynamically inserted ones included.
const script = document.currentScript as HTMLScriptElement

export const {
  writeKey,
  /** The ingestion origin: `data-host`, else wherever t.js itself was loaded from. */
  host = new URL(script.src).origin,
  consent: consentMode,
  outbound,
  downloads,
} = script.dataset

/** In opt-in mode nothing leaves the page or lands in storage until `analytics` is granted. */
export const optIn = consentMode == 'opt-in'

/** Global Privacy Control: a standing "do not sell or share", so advertising is always denied. */
export const gpc = (navigator as Navigator & { globalPrivacyControl?: boolean })
  .globalPrivacyControl
