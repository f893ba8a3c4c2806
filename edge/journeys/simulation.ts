import type { JourneyDefinition } from '../../domain/journeys/definition'
import {
  simulate,
  type ScriptedEvent,
  type SimulatedContact,
  type SimulationResult,
  type WouldSend,
} from '../../domain/journeys/simulate'
import type { Duration } from '../../domain/segments/rule'
import type { Env } from '../env'
import { ApiError } from '../errors'
import { renderEmail, TemplateError, type RenderedEmail } from '../messaging/render'
import { loadTemplateForSend } from '../messaging/templates'
import { segmentConfig } from '../segments/config'
import { segmentLookup } from '../segments/store'
import { journeyConfig } from './config'

/**
 * `POST /api/journeys/:id/simulate`: the pure simulator (domain/journeys/simulate.ts) fed with
 * what the platform knows now (segments' rules, declared experiment winners, the real clock as
 * its start), and each email it would have sent rendered from the template in D1 for the
 * simulated contact as it was at that moment. Nothing is sent or stored.
 */

export interface SimulationRequest {
  journeyId: string
  /** The version simulated; 0 for a draft. */
  version: number
  definition: JourneyDefinition
  contact: SimulatedContact
  events: ScriptedEvent[]
  until: Duration
  data?: Record<string, unknown>
}

export type RenderedSend = WouldSend & (RenderedEmail | { error: string })

export type RenderedSimulation = Omit<SimulationResult, 'wouldSend'> & {
  wouldSend: RenderedSend[]
}

export async function simulateJourney(
  env: Pick<Env, 'DB'>,
  request: SimulationRequest,
): Promise<RenderedSimulation> {
  const [segments, journeys] = await Promise.all([segmentConfig(env), journeyConfig(env)])
  const declared = journeys.journeys.find((j) => j.id === request.journeyId)?.winners ?? {}
  const prefix = `${request.version}:`
  const winners = Object.fromEntries(
    Object.entries(declared)
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, winner]) => [key.slice(prefix.length), winner]),
  )
  const start = Date.now()
  const result = simulate({
    ...request,
    start,
    segments: segmentLookup(segments),
    winners,
    nextBestAction: null,
  })
  if ('error' in result) throw new ApiError(400, result.error.code, result.error.message)
  const wouldSend = await Promise.all(
    result.wouldSend.map(async (send) => ({
      ...send,
      ...(await render(env, send, {
        contact: send.contact,
        event: send.event,
        account: null,
        data: request.data ?? {},
      })),
    })),
  )
  return { ...result, wouldSend }
}

async function render(
  env: Pick<Env, 'DB'>,
  send: WouldSend,
  scope: Parameters<typeof renderEmail>[2],
): Promise<RenderedEmail | { error: string }> {
  const loaded = await loadTemplateForSend(env.DB, send.template)
  if (!loaded) return { error: `no template ${send.template}` }
  try {
    return renderEmail(loaded.template, loaded.snippets, scope)
  } catch (error) {
    if (error instanceof TemplateError) return { error: error.message }
    throw error
  }
}
