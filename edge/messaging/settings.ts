import { z } from '@hono/zod-openapi'
import { DurationSchema } from '../../contracts/segment'
import { durationMs } from '../../domain/segments/rule'
import { knownTimeZone } from '../../domain/messaging/policy'
import type { SendRules } from '../../durable/contact-messaging'
import { readSetting, writeSetting } from '../db/settings'

/** `PUT /api/messaging/settings`: the sender, and the caps and quiet hours across all journeys. */

const SETTING_KEY = 'messaging.settings'

const Clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (00:00 to 23:59)')
  .openapi({ example: '21:00' })

/** An address, bare or with a display name (`Cairn <hello@example.com>`); no line breaks. */
const Sender = z
  .string()
  .max(320)
  .regex(/^(?:[^<>\r\n]{0,200}<)?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?$/, 'an email address')

export const MessagingSettingsSchema = z
  .strictObject({
    from: Sender.openapi({ example: 'Cairn <hello@example.com>' }),
    replyTo: Sender.optional(),
    frequencyCap: z
      .strictObject({ count: z.number().int().min(1).max(1000), per: DurationSchema })
      .optional()
      .openapi({ description: 'At most `count` marketing messages per contact within `per`' }),
    quietHours: z
      .strictObject({ start: Clock, end: Clock })
      .refine((q) => q.start !== q.end, 'start and end must differ')
      .optional()
      .openapi({
        description:
          "Marketing messages due inside these hours of the contact's time zone wait until the end",
      }),
    timezone: z
      .string()
      .refine((zone) => knownTimeZone(zone) !== null, 'an IANA time zone such as Europe/Paris')
      .optional()
      .openapi({ description: 'For contacts whose time zone is unknown (default UTC)' }),
  })
  .openapi('MessagingSettings')

export type MessagingSettings = z.infer<typeof MessagingSettingsSchema>

/** What a deployment that never configured messaging sends as: a local placeholder. */
export const DEFAULT_SETTINGS: MessagingSettings = { from: 'Cairn <hello@cairn.localhost>' }

export async function readMessagingSettings(db: D1Database): Promise<MessagingSettings> {
  return (await readSetting<MessagingSettings>(db, SETTING_KEY)) ?? DEFAULT_SETTINGS
}

export function writeMessagingSettings(db: D1Database, settings: MessagingSettings) {
  return writeSetting(db, SETTING_KEY, settings)
}

/** The rules a contact's object applies when it makes a message. */
export function sendRules(settings: MessagingSettings): SendRules {
  return {
    ...(settings.frequencyCap
      ? {
          frequencyCap: {
            count: settings.frequencyCap.count,
            perMs: durationMs(settings.frequencyCap.per),
          },
        }
      : {}),
    ...(settings.quietHours ? { quietHours: settings.quietHours } : {}),
    ...(settings.timezone ? { timeZone: settings.timezone } : {}),
  }
}
