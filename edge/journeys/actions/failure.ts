import type { Failure } from '../../messaging/providers/provider'

/**
 * What a refusal from a webhook receiver or a help desk means: 408, 429 and 5xx are its
 * trouble, and the job comes back with backoff; every other answer (3xx included: redirects are
 * not followed) refuses this request, which trying again will not change. Unlike an email
 * provider's, a 401 or 403 has no other service to fall back to.
 */
export function actionFailureOf(status: number): Failure {
  return status === 408 || status === 429 || status >= 500 ? 'retryable' : 'permanent'
}
