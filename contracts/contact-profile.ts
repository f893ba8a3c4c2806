import { z } from '@hono/zod-openapi'
import { PURPOSES, type Purpose } from '../domain/consent'
import { MESSAGE_STATUSES, PROVIDER_KINDS } from './messaging'

/**
 * The contact profile: what `ContactDO.profile()` returns, what `GET /api/contacts/:id` answers
 * (with the fields `ContactSchema` adds) and what the console shows. One schema, so the three
 * cannot drift apart. The console imports only the types (`import type`): no zod in its bundle.
 */

const Decision = z.boolean().nullable()

/** Effective consent per purpose; null when no decision was recorded. */
export const ConsentStateSchema = z.object(
  Object.fromEntries(PURPOSES.map((p) => [p, Decision])) as Record<Purpose, typeof Decision>,
)

/** Not named in the OpenAPI document: `Contact` below inlines it, as the route always did. */
/** A journey run as `GET /api/contacts/:id/journeys` and the profile show it. */
export const JourneyRunSchema = z
  .object({
    id: z.string(),
    journeyId: z.string(),
    version: z.number().int(),
    state: z.enum(['active', 'completed', 'exited']),
    /** Where it waits while active; its last node once ended. */
    node: z.string(),
    waitingUntil: z.string().nullable(),
    converted: z.boolean(),
    reason: z.string().nullable(),
    /** The path each experiment node sent it down. */
    paths: z.record(z.string(), z.string()),
    enteredAt: z.string(),
    endedAt: z.string().nullable(),
    steps: z.array(
      z.object({
        at: z.string(),
        node: z.string(),
        type: z.string(),
        outcome: z.string(),
        next: z.string().nullable(),
      }),
    ),
  })
  .openapi('JourneyRun')

export const ContactProfileSchema = z.object({
  key: z.string(),
  userId: z.string().nullable(),
  anonymousIds: z.array(z.string()),
  traits: z.record(z.string(), z.unknown()),
  traitHistory: z.array(
    z.object({
      key: z.string(),
      from: z.unknown(),
      to: z.unknown(),
      at: z.string(),
      messageId: z.string().nullable(),
    }),
  ),
  identities: z.array(
    z.object({
      kind: z.string(),
      value: z.string(),
      status: z.string(),
      linkedAt: z.string(),
      detail: z.string().optional(),
    }),
  ),
  groups: z.array(
    z.object({
      groupId: z.string(),
      traits: z.record(z.string(), z.unknown()),
      joinedAt: z.string(),
    }),
  ),
  counters: z.array(
    z.object({ name: z.string(), count: z.number(), firstAt: z.string(), lastAt: z.string() }),
  ),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  eventCount: z.number().int(),
  consent: ConsentStateSchema.openapi({
    description: 'Effective consent per purpose (null: no decision recorded)',
  }),
  /** Session entries that attribution credits, oldest first. */
  touches: z.array(
    z.object({
      at: z.string(),
      channel: z.string(),
      campaign: z.string().nullable(),
      source: z.string().nullable(),
      medium: z.string().nullable(),
    }),
  ),
  /** Ids of the segments the contact is in (the contract's list). */
  segments: z.array(z.string()),
  /** The same segments with since when, oldest first. */
  segmentMemberships: z.array(z.object({ id: z.string(), since: z.string() })),
  /** Manual lists the contact is on. */
  lists: z.array(z.string()),
  /** Subscription groups the contact chose (true: in, false: out); a group not named never chose. */
  subscriptions: z.record(z.string(), z.boolean()),
  /** The contact's latest messages (at most 20), newest first. */
  messages: z.array(
    z.object({
      id: z.string(),
      template: z.string(),
      subject: z.string().nullable(),
      status: z.enum(MESSAGE_STATUSES),
      reason: z.string().nullable(),
      attempts: z.array(
        z.object({
          provider: z.enum(PROVIDER_KINDS),
          status: z.enum(['sent', 'retryable', 'permanent', 'skipped']),
          at: z.string(),
          httpStatus: z.number().int().optional(),
          error: z.string().optional(),
        }),
      ),
      journeyId: z.string().nullable(),
      createdAt: z.string(),
    }),
  ),
  /** The contact's journey runs (at most 50), newest first, each with its step log. */
  journeys: z.array(JourneyRunSchema),
})

export type ContactProfile = z.infer<typeof ContactProfileSchema>

/** `GET /api/contacts/:id`: the profile and what later slices (scores, journeys) add. */
export const ContactSchema = ContactProfileSchema.extend({
  scores: z.record(z.string(), z.number()),
}).openapi('Contact')

export type Contact = z.infer<typeof ContactSchema>
