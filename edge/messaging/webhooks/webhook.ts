import type { ProviderConfig, ProviderKind } from '../../../contracts/messaging'

/**
 * What every provider's webhook module shares: the request as it arrived, what verification may
 * reach past the Worker, and the refusal the route answers 401 to.
 */

/** The tag each provider client sends with a message and its webhooks carry back. */
export const MESSAGE_TAG = 'cairn_message'

/** The body exactly as sent (signatures are over its bytes) and the request's headers. */
export interface WebhookRequest {
  body: string
  headers: Headers
}

export interface WebhookDeps {
  /** For SNS certificates and subscription confirmations; no other provider calls out. */
  fetch: typeof fetch
  /** ms since the epoch: the clock timestamps are checked against. */
  now: number
}

export type WebhookProvider = Exclude<ProviderKind, 'log'>
export type ConfigOf<K extends ProviderKind> = Extract<ProviderConfig, { kind: K }>

/**
 * A webhook Cairn will not act on, and why: missing headers, a stale timestamp, credentials
 * not configured, a certificate from a foreign host. The provider's delivery log shows the reason.
 */
export class WebhookRefused extends Error {}

/** A verified body that is not the provider's event format. */
export class WebhookMalformed extends Error {}

/** JSON of a verified body; a body that is not JSON was never the provider's. */
export function parseJson(body: string, provider: string): unknown {
  try {
    return JSON.parse(body)
  } catch {
    throw new WebhookMalformed(`The ${provider} webhook body is not JSON`)
  }
}

/** Bytes of base64 text; null when it is not base64. */
export function base64Bytes(text: string): Uint8Array<ArrayBuffer> | null {
  try {
    return Uint8Array.fromBase64(text.replace(/\s+/g, '')) as Uint8Array<ArrayBuffer>
  } catch {
    return null
  }
}

/** ms since the epoch of an ISO time; null when absent or unreadable. */
export function isoMs(value: unknown): number | null {
  if (typeof value !== 'string') return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : ms
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
