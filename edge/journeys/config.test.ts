import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { JourneyDefinition } from '../../domain/journeys/definition'
import { uid } from '../../test/support/api'
import { writeMessagingSettings } from '../messaging/settings'
import { createSubscriptionGroup } from '../messaging/subscription-groups'
import { createTemplate, updateTemplate } from '../messaging/templates'
import { journeyDefinition, loadJourneyConfig } from './config'
import { addVersion, createJourney, publish, rollback, setPaused } from './store'

const emails = (...templates: string[]): JourneyDefinition => ({
  entry: { event: 'Signed Up' },
  start: 'n0',
  nodes: Object.fromEntries([
    ...templates.map((template, i) => [
      `n${i}`,
      { type: 'email', template, next: `n${i + 1}` } as const,
    ]),
    [`n${templates.length}`, { type: 'exit' } as const],
  ]),
})

async function template(kind: 'marketing' | 'transactional', group: string | null = null) {
  const created = await createTemplate(env.DB, {
    name: uid('tpl'),
    subject: 'Hi',
    html: '<p>Hi</p>',
    text: null,
    kind,
    group,
    layout: null,
  })
  return created.id
}

const generation = (version: string) => Number(version.split('.')[0])

describe('the journey configuration contact objects read', () => {
  it('holds live and paused journeys with their live sets, but no draft', async () => {
    const draft = await createJourney(env.DB, { name: uid('Draft') })
    await addVersion(env.DB, draft.id, emails())
    const live = await createJourney(env.DB, { name: uid('Live') })
    await addVersion(env.DB, live.id, emails())
    await addVersion(env.DB, live.id, emails())
    await publish(env.DB, live.id, [
      { version: 1, weight: 3 },
      { version: 2, weight: 1 },
    ])
    const paused = await createJourney(env.DB, { name: uid('Paused') })
    await addVersion(env.DB, paused.id, emails())
    await publish(env.DB, paused.id, [{ version: 1, weight: 1 }])
    await setPaused(env.DB, paused.id, true)

    const config = await loadJourneyConfig(env.DB)
    const byId = new Map(config.journeys.map((j) => [j.id, j]))
    expect(byId.has(draft.id)).toBe(false)
    expect(byId.get(live.id)).toEqual({
      id: live.id,
      name: live.name,
      status: 'live',
      live: [
        { version: 1, weight: 3 },
        { version: 2, weight: 1 },
      ],
      winners: {},
    })
    expect(byId.get(paused.id)?.status).toBe('paused')
  })

  it("targets every template any version names, with its kind and group's default", async () => {
    const optIn = await createSubscriptionGroup(env.DB, {
      id: uid('weekly'),
      name: 'Weekly',
      defaultSubscribed: false,
    })
    const plain = await template('marketing')
    const grouped = await template('marketing', optIn.id)
    const receipt = await template('transactional')
    const missing = uid('never-made')
    const journey = await createJourney(env.DB, { name: uid('Targets') })
    // The first version's template is still a target: runs pinned to it still send.
    await addVersion(env.DB, journey.id, emails(plain))
    await addVersion(env.DB, journey.id, emails(grouped, receipt, missing))
    await publish(env.DB, journey.id, [{ version: 2, weight: 1 }])

    const { targets, groupDefaults } = await loadJourneyConfig(env.DB)
    expect(targets[plain]).toEqual({
      templateId: plain,
      kind: 'marketing',
      groupId: 'marketing',
      groupDefault: true,
    })
    expect(targets[grouped]).toEqual({
      templateId: grouped,
      kind: 'marketing',
      groupId: optIn.id,
      groupDefault: false,
    })
    expect(targets[receipt]).toMatchObject({ groupId: 'transactional', groupDefault: true })
    expect(missing in targets).toBe(false)
    expect(groupDefaults).toMatchObject({ marketing: true, [optIn.id]: false })
  })

  it('names the experiment winners by version and node', async () => {
    const journey = await createJourney(env.DB, { name: uid('Winners') })
    await addVersion(env.DB, journey.id, emails())
    await publish(env.DB, journey.id, [{ version: 1, weight: 1 }])
    await env.DB.prepare(
      `INSERT INTO journey_experiments (journey_id, version, node, winner, p_value, decided_at, stats)
       VALUES (?, 1, 'subject', 'short', 0.01, ?, '{}'), (?, 1, 'timing', NULL, NULL, NULL, '{}')`,
    )
      .bind(journey.id, new Date().toISOString(), journey.id)
      .run()
    const config = await loadJourneyConfig(env.DB)
    expect(config.journeys.find((j) => j.id === journey.id)?.winners).toEqual({
      '1:subject': 'short',
    })
  })

  it('carries the send rules of the messaging settings', async () => {
    await writeMessagingSettings(env.DB, {
      from: 'Cairn <hi@example.com>',
      frequencyCap: { count: 2, per: { days: 1 } },
      quietHours: { start: '21:00', end: '08:00' },
    })
    expect((await loadJourneyConfig(env.DB)).sendRules).toEqual({
      frequencyCap: { count: 2, perMs: 86_400_000 },
      quietHours: { start: '21:00', end: '08:00' },
    })
  })

  it('changes its version, with a higher generation, on every change', async () => {
    const versions = [(await loadJourneyConfig(env.DB)).version]
    const changed = async () => {
      const { version } = await loadJourneyConfig(env.DB)
      expect(generation(version)).toBeGreaterThan(generation(versions.at(-1)!))
      expect(version).not.toBe(versions.at(-1))
      versions.push(version)
    }
    const mail = await template('marketing')
    await changed()
    const { id } = await createJourney(env.DB, { name: uid('Changes') })
    await changed()
    await addVersion(env.DB, id, emails(mail))
    await changed()
    await addVersion(env.DB, id, emails())
    await changed()
    await publish(env.DB, id, [{ version: 1, weight: 1 }])
    await changed()
    await publish(env.DB, id, [{ version: 2, weight: 1 }])
    await changed()
    await setPaused(env.DB, id, true)
    await changed()
    await setPaused(env.DB, id, false)
    await changed()
    await rollback(env.DB, id)
    await changed()
    await updateTemplate(env.DB, mail, { kind: 'transactional' })
    await changed()
  })

  it('reads a version that was missing once it is saved', async () => {
    const { id } = await createJourney(env.DB, { name: uid('Definition') })
    expect(await journeyDefinition(env, id, 1)).toBeNull()
    await addVersion(env.DB, id, emails('later'))
    expect(await journeyDefinition(env, id, 1)).toEqual(emails('later'))
  })
})
