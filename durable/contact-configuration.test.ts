import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../edge/attribution/config'
import { uid } from '../test/support/api'
import { contactAttribution } from './contact-configuration'

describe("contacts' configuration by version", () => {
  it('reads the configuration when the version an ingest names moves, and only then', async () => {
    const before = await loadConfig(env.DB)
    const first = await contactAttribution(env, before.version)
    const name = uid('Order')
    await env.DB.prepare(
      `INSERT INTO conversion_definitions (id, name, event_name, filter, value_property, created_at)
       VALUES (?, ?, ?, '{}', NULL, ?)`,
    )
      .bind(uid('conv'), name, name, new Date().toISOString())
      .run()
    const after = await loadConfig(env.DB)
    expect(after.version).not.toBe(before.version)

    // The old version is served as it was: the object does not read D1 for every call.
    expect(await contactAttribution(env, before.version)).toBe(first)
    const moved = await contactAttribution(env, after.version)
    expect(moved.conversions.map((c) => c.name)).toContain(name)
    expect(first.conversions.map((c) => c.name)).not.toContain(name)
  })
})
