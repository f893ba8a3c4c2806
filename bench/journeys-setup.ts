import { call, expectStatus } from './api.ts'
import type { JourneyDefinition } from '../domain/journeys/definition.ts'
import {
  SEGMENTS,
  TEMPLATES,
  withRefs,
  type BenchJourney,
  type BenchSegment,
  type BenchTemplate,
} from './journeys-definitions.ts'
import type { CairnTarget } from './runtime.ts'

/**
 * What the journeys section creates through the public API before it measures, as the console
 * would: templates and segments, and journeys made live (create, save a version, publish).
 */

export interface Refs {
  templates: Map<string, string>
  segments: Map<string, string>
}

/** The section's templates and segments; the ids the API gave them by slug. */
export async function createRefs(
  target: CairnTarget,
  templates: readonly BenchTemplate[] = TEMPLATES,
  segments: readonly BenchSegment[] = SEGMENTS,
): Promise<Refs> {
  const refs: Refs = { templates: new Map(), segments: new Map() }
  for (const template of templates) {
    const { slug, ...body } = template
    const created = await expectStatus<{ id: string }>(201, target, 'POST', '/api/templates', {
      body,
    })
    refs.templates.set(slug, created.body.id)
  }
  for (const segment of segments) {
    const created = await expectStatus<{ id: string }>(201, target, 'POST', '/api/segments', {
      body: { name: segment.name, rule: segment.rule },
    })
    refs.segments.set(segment.slug, created.body.id)
  }
  return refs
}

export interface LiveJourney {
  slug: string
  id: string
  version: number
}

/** Creates a journey, saves its definition as a version and publishes that version. */
export async function publishJourney(
  target: CairnTarget,
  name: string,
  definition: JourneyDefinition,
  refs: Refs,
): Promise<{ id: string; version: number }> {
  const created = await expectStatus<{ id: string }>(201, target, 'POST', '/api/journeys', {
    body: { name },
  })
  const id = created.body.id
  const saved = await expectStatus<{ version: number }>(
    201,
    target,
    'POST',
    `/api/journeys/${encodeURIComponent(id)}/versions`,
    { body: { definition: withRefs(definition, refs) } },
  )
  const version = saved.body.version
  const published = await call(target, 'POST', `/api/journeys/${encodeURIComponent(id)}/publish`, {
    body: { version },
  })
  if (published.status >= 300) {
    throw new Error(
      `POST /api/journeys/${id}/publish answered ${published.status}: ${published.text.slice(0, 600)}`,
    )
  }
  return { id, version }
}

export async function publishJourneys(
  target: CairnTarget,
  journeys: readonly BenchJourney[],
  refs: Refs,
): Promise<LiveJourney[]> {
  const live: LiveJourney[] = []
  for (const journey of journeys) {
    const made = await publishJourney(target, `bench: ${journey.slug}`, journey.definition, refs)
    live.push({ slug: journey.slug, ...made })
  }
  return live
}
