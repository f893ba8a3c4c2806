import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { CONVERSION_LIMITS } from '../attribution/config'
import { CHANNEL_RULE_LIMITS, DEFAULT_CHANNEL_RULES } from '../../domain/channel'
import { MAX_PATTERN_CHARS } from '../../domain/channel-pattern'
import { api, uid } from '../../test/support/api'
import { KEY_LIMITS } from './keys'
import { SOURCE_LIMITS } from './sources'

async function refusal(response: Response) {
  expect(response.status).toBe(400)
  const { error } = (await response.json()) as { error: { code: string; message: string } }
  expect(error.code).toBe('invalid_request')
  return error.message
}

function putRules(rules: unknown[]) {
  return api('/api/attribution/channels', { method: 'PUT', json: { rules } })
}

/** Rows written straight to D1, standing for many created earlier. */
async function seed(sql: string, count: number) {
  const ids = Array.from({ length: count }, () => uid('seed'))
  await env.DB.prepare(sql).bind(JSON.stringify(ids)).run()
}

describe('conversion definitions', () => {
  const create = (input: Record<string, unknown>) =>
    api('/api/attribution/conversions', {
      method: 'POST',
      json: { name: 'Purchase', eventName: 'Order Completed', ...input },
    })

  it('refuses filters and names past their bounds, naming the field and the limit', async () => {
    const filter = Object.fromEntries(
      Array.from({ length: CONVERSION_LIMITS.filters + 1 }, (_, i) => [`p${i}`, i]),
    )
    expect(await refusal(await create({ filter }))).toBe(
      `Invalid request: filter: at most ${CONVERSION_LIMITS.filters} properties`,
    )
    expect(await refusal(await create({ filter: { plan: 'x'.repeat(201) } }))).toMatch(
      /^Invalid request: filter\.plan: .*200/,
    )
    expect(await refusal(await create({ filter: { ['k'.repeat(101)]: 1 } }))).toMatch(
      /^Invalid request: filter\.k+: .*100/,
    )
    expect(await refusal(await create({ eventName: 'E'.repeat(201) }))).toMatch(
      /^Invalid request: eventName: .*200/,
    )
    expect(await refusal(await create({ valueProperty: 'v'.repeat(101) }))).toMatch(
      /^Invalid request: valueProperty: .*100/,
    )
  })

  it('stores at most the limit of definitions, and takes new ones once one is deleted', async () => {
    const listed = await api('/api/attribution/conversions')
    const existing = ((await listed.json()) as { items: unknown[] }).items.length
    await seed(
      `INSERT INTO conversion_definitions (id, name, event_name, filter, value_property, created_at)
       SELECT value, 'Seeded', 'Seeded', '{}', NULL, '2020-01-01T00:00:00.000Z' FROM json_each(?)`,
      CONVERSION_LIMITS.definitions - existing - 1,
    )
    const last = await create({ name: 'The last one' })
    expect(last.status).toBe(201)
    const over = await create({ name: 'One too many' })
    expect(over.status).toBe(409)
    expect(await over.json()).toEqual({
      error: {
        code: 'limit_reached',
        message: `There are already ${CONVERSION_LIMITS.definitions} conversion definitions, the limit; delete one first`,
      },
    })
    const { id } = (await last.json()) as { id: string }
    expect((await api(`/api/attribution/conversions/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await create({ name: 'Room again' })).status).toBe(201)
  })
})

describe('channel rules', () => {
  it('refuses a pattern it cannot run safely, naming the rule and why', async () => {
    const rules = [
      ...DEFAULT_CHANNEL_RULES.slice(0, 3),
      { channel: 'partners', medium: '(?!internal).*' },
    ]
    expect(await refusal(await putRules(rules))).toBe(
      'Invalid request: rules[3].medium: lookarounds ("(?=", "(?!", "(?<=", "(?<!") are not supported at position 1',
    )
    expect(await refusal(await putRules([{ channel: 'x', campaign: '(a)\\1' }]))).toMatch(
      /^Invalid request: rules\[0\]\.campaign: backreferences are not supported/,
    )
    expect(
      await refusal(await putRules([{ channel: 'x', source: 's'.repeat(MAX_PATTERN_CHARS + 1) }])),
    ).toBe(`Invalid request: rules[0].source: is 201 characters; the limit is ${MAX_PATTERN_CHARS}`)
  })

  it('bounds the number of rules, their click ids and the work their patterns take', async () => {
    const many = Array.from({ length: CHANNEL_RULE_LIMITS.rules + 1 }, () => ({
      channel: 'x',
      medium: 'x',
    }))
    expect(await refusal(await putRules(many))).toMatch(/^Invalid request: rules: .*100/)
    const clickIds = Array.from({ length: CHANNEL_RULE_LIMITS.clickIds + 1 }, (_, i) => `c${i}`)
    expect(await refusal(await putRules([{ channel: 'x', clickIds }]))).toMatch(
      /^Invalid request: rules\[0\]\.clickIds: .*10/,
    )
    const heavy = Array.from({ length: 20 }, () => ({
      channel: 'x',
      medium: '.{1,99}',
      source: '.{1,99}',
      campaign: '.{1,99}',
    }))
    expect(await refusal(await putRules(heavy))).toMatch(
      /^Invalid request: rules: the patterns together compile to \d+ steps; the limit is 10000$/,
    )
    // The defaults are far inside every bound.
    expect((await putRules(DEFAULT_CHANNEL_RULES)).status).toBe(200)
  })
})

describe('sources', () => {
  it('bounds allowed origins in number and length', async () => {
    const long = `https://${'a'.repeat(SOURCE_LIMITS.originChars)}.example`
    const create = (allowedOrigins: string[]) =>
      api('/api/sources', { method: 'POST', json: { name: 'Bounded', allowedOrigins } })
    expect(await refusal(await create([long]))).toMatch(
      /^Invalid request: allowedOrigins\[0\]: .*255/,
    )
    const many = Array.from(
      { length: SOURCE_LIMITS.origins + 1 },
      (_, i) => `https://s${i}.example`,
    )
    expect(await refusal(await create(many))).toMatch(/^Invalid request: allowedOrigins: .*100/)
  })
})

describe('keys', () => {
  it('bounds key names', async () => {
    const response = await api('/api/keys', {
      method: 'POST',
      json: { name: 'n'.repeat(KEY_LIMITS.nameChars + 1), role: 'analyst' },
    })
    expect(await refusal(response)).toMatch(/^Invalid request: name: .*100/)
  })
})

// Last in the file: they fill the tables to their limits.
describe('stored counts', () => {
  it('stores at most the limit of active keys; a revoked key makes room', async () => {
    const create = () => api('/api/keys', { method: 'POST', json: { name: 'K', role: 'analyst' } })
    const first = await create()
    expect(first.status).toBe(201)
    const active = await env.DB.prepare(
      'SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL',
    ).first<{ n: number }>()
    await seed(
      `INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at)
       SELECT value, 'Seeded', 'analyst', value, 'sk_seed', '2020-01-01' FROM json_each(?)`,
      KEY_LIMITS.activeKeys - active!.n,
    )
    const over = await create()
    expect(over.status).toBe(409)
    expect(await over.json()).toMatchObject({ error: { code: 'limit_reached' } })
    const { id } = (await first.json()) as { id: string }
    expect((await api(`/api/keys/${id}`, { method: 'DELETE' })).status).toBe(200)
    expect((await create()).status).toBe(201)
  })

  it('stores at most the limit of sources', async () => {
    const count = await env.DB.prepare('SELECT COUNT(*) AS n FROM sources').first<{ n: number }>()
    await seed(
      `INSERT INTO sources (id, name, write_key, allowed_origins, consent_mode, enabled, created_at)
       SELECT value, 'Seeded', value, '[]', 'opt-out', 0, '2020-01-01' FROM json_each(?)`,
      SOURCE_LIMITS.sources - count!.n,
    )
    const over = await api('/api/sources', { method: 'POST', json: { name: 'One too many' } })
    expect(over.status).toBe(409)
    expect(await over.json()).toMatchObject({ error: { code: 'limit_reached' } })
  })
})
