import type { NodeMetrics } from '../../models/journeys'
import { count, share } from '../format'

/** A rate the API answers as a fraction, or null before anything could count. */
export function rate(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : share(value)
}

/**
 * The node's figures as the graph shows them, short enough for a node: entered, waiting,
 * progressed, exited, converted ("12 in · 3 wait · 8 on · 1 out · 2 conv"), then an email
 * node's messages by status.
 */
export function overlayText(metrics: NodeMetrics): string {
  const parts = [
    `${count(metrics.entered)} in`,
    `${count(metrics.waiting)} wait`,
    `${count(metrics.progressed)} on`,
    `${count(metrics.exited)} out`,
    `${count(metrics.converted)} conv`,
  ]
  const messages = Object.entries(metrics.messages ?? {})
  if (messages.length > 0) {
    parts.push(messages.map(([status, n]) => `${count(n)} ${status}`).join(' · '))
  }
  return parts.join(' · ')
}

/** JSON for reading, on one line when short. */
export function json(value: unknown): string {
  if (value === undefined) return '(none)'
  const line = JSON.stringify(value)
  return line.length <= 80 ? line : JSON.stringify(value, null, 2)
}
