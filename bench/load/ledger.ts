/**
 * What the server acknowledged. Every message of a run has a unique messageId, so after the
 * queue drains D1 must hold exactly the acknowledged events. A request that was in flight when
 * a run stopped, timed out or failed has an unknown outcome: its messageIds are kept apart, and
 * the loss check looks those up in D1 instead of guessing.
 */
export class Ledger {
  /** Events the server acknowledged with a 2xx (`accepted` from the response body). */
  accepted = 0
  /** Events in requests answered with a 2xx. */
  acknowledgedEvents = 0
  /** Events a 2xx answer listed as rejected (none expected: every generated message is valid). */
  rejected = 0
  /** Messages whose outcome is unknown: non-2xx answers, errors, requests cut off at the end. */
  readonly unknown: string[] = []
  unknownRequests = 0

  /** Adds a 2xx answer; `body` is the response text (Cairn and the DO ceiling send `accepted`). */
  acknowledge(events: number, body: string | undefined): number {
    let accepted = events
    if (body) {
      try {
        const parsed = JSON.parse(body) as { accepted?: unknown }
        if (typeof parsed.accepted === 'number') accepted = parsed.accepted
      } catch {
        // a bare 204 has no body; every event counts as accepted
      }
    }
    this.accepted += accepted
    this.acknowledgedEvents += events
    this.rejected += events - accepted
    return accepted
  }

  unacknowledged(messageIds: string[]): void {
    this.unknownRequests++
    for (const id of messageIds) this.unknown.push(id)
  }
}
