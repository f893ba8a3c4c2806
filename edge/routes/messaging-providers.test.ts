import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { providerHealth } from '../../durable/provider-health'
import { readProviders } from '../messaging/provider-config'
import { api, errorOf, uid } from '../../test/support/api'

const SENDGRID_KEY = 'SG.sendgrid-secret-value-1234'
const AWS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const SECRETS = [SENDGRID_KEY, AWS_KEY_ID, AWS_SECRET]

function put(list: unknown, key?: string) {
  return api('/api/messaging/providers', { method: 'PUT', json: list, key })
}

async function settingsRow() {
  const row = await env.DB.prepare(
    "SELECT value FROM settings WHERE key = 'messaging.providers'",
  ).first<{
    value: string
  }>()
  return row?.value ?? null
}

async function keyOf(role: string) {
  const response = await api('/api/keys', { method: 'POST', json: { name: uid(role), role } })
  return ((await response.json()) as { key: string }).key
}

const closed = { state: 'closed', failures: 0, openUntil: null }

// One file's tests share D1 and the one health object: they run in order, each from the last.
describe('messaging providers', () => {
  it('are the log provider until configured, so a fresh deployment shows its messages', async () => {
    const response = await api('/api/messaging/providers')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      items: [{ kind: 'log', credentials: {}, health: closed }],
    })
    expect(await readProviders(env)).toEqual([{ kind: 'log' }])
  })

  it('take credentials that no answer and no stored row shows in clear', async () => {
    const response = await put([
      { kind: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: 'https://api.eu.sendgrid.com' },
      {
        kind: 'ses',
        region: 'eu-west-1',
        accessKeyId: AWS_KEY_ID,
        secretAccessKey: AWS_SECRET,
        configurationSet: 'cairn',
      },
      { kind: 'log' },
    ])
    expect(response.status).toBe(200)
    const text = await response.text()
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    expect(JSON.parse(text)).toEqual({
      items: [
        {
          kind: 'sendgrid',
          baseUrl: 'https://api.eu.sendgrid.com',
          credentials: { apiKey: 'set' },
          health: closed,
        },
        {
          kind: 'ses',
          region: 'eu-west-1',
          configurationSet: 'cairn',
          credentials: { accessKeyId: 'set', secretAccessKey: 'set' },
          health: closed,
        },
        { kind: 'log', credentials: {}, health: closed },
      ],
    })
    const read = await api('/api/messaging/providers')
    expect(await read.text()).toBe(text)

    const row = (await settingsRow())!
    for (const secret of SECRETS) expect(row).not.toContain(secret)
    expect(row).toContain('eu-west-1')

    // The send consumer gets them back as entered.
    expect(await readProviders(env)).toEqual([
      { kind: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: 'https://api.eu.sendgrid.com' },
      {
        kind: 'ses',
        region: 'eu-west-1',
        accessKeyId: AWS_KEY_ID,
        secretAccessKey: AWS_SECRET,
        configurationSet: 'cairn',
      },
      { kind: 'log' },
    ])
    const audit = await env.DB.prepare(
      "SELECT detail FROM audit_log WHERE action = 'PUT /api/messaging/providers' ORDER BY seq DESC LIMIT 1",
    ).first<{ detail: string }>()
    expect(JSON.parse(audit!.detail)).toEqual({ providers: ['sendgrid', 'ses', 'log'] })
  })

  it('keep a stored credential the body leaves out, so they can be reordered', async () => {
    const response = await put([
      { kind: 'log' },
      { kind: 'ses', region: 'eu-central-1' },
      { kind: 'sendgrid', baseUrl: 'https://api.eu.sendgrid.com' },
    ])
    expect(response.status).toBe(200)
    const { items } = (await response.json()) as { items: { kind: string; credentials: object }[] }
    expect(items.map((item) => [item.kind, item.credentials])).toEqual([
      ['log', {}],
      ['ses', { accessKeyId: 'set', secretAccessKey: 'set' }],
      ['sendgrid', { apiKey: 'set' }],
    ])
    expect(await readProviders(env)).toEqual([
      { kind: 'log' },
      { kind: 'ses', region: 'eu-central-1', accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET },
      { kind: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: 'https://api.eu.sendgrid.com' },
    ])
    // A new key replaces the stored one.
    expect(
      (
        await put([
          {
            kind: 'sendgrid',
            apiKey: 'SG.rotated-key-5678',
            baseUrl: 'https://api.eu.sendgrid.com',
          },
        ])
      ).status,
    ).toBe(200)
    expect(await readProviders(env)).toEqual([
      { kind: 'sendgrid', apiKey: 'SG.rotated-key-5678', baseUrl: 'https://api.eu.sendgrid.com' },
    ])
  })

  it('refuse a new provider without its credentials, naming the field', async () => {
    const missing = await errorOf(await put([{ kind: 'resend' }]), 400, 'invalid_request')
    expect(missing.message).toBe('Invalid request: [0].apiKey: required')
    const both = await errorOf(
      await put([{ kind: 'log' }, { kind: 'postmark', messageStream: 'outbound' }]),
      400,
      'invalid_request',
    )
    expect(both.message).toBe('Invalid request: [1].serverToken: required')
  })

  it('do not hand a stored key to a provider pointed at another host', async () => {
    const moved = await errorOf(
      await put([{ kind: 'sendgrid', baseUrl: 'https://collector.example' }]),
      400,
      'invalid_request',
    )
    expect(moved.message).toBe('Invalid request: [0].apiKey: required')
    expect(await readProviders(env)).toEqual([
      { kind: 'sendgrid', apiKey: 'SG.rotated-key-5678', baseUrl: 'https://api.eu.sendgrid.com' },
    ])
  })

  it('refuse a list that is not a fallback order, naming what is wrong', async () => {
    const cases: [unknown, string][] = [
      [[], '(root)'],
      [[{ kind: 'log' }, { kind: 'log' }], '[1].kind'],
      [
        [{ kind: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: 'http://api.sendgrid.com' }],
        '[0].baseUrl',
      ],
      [
        [{ kind: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: 'https://u:p@api.sendgrid.com' }],
        '[0].baseUrl',
      ],
      [
        [{ kind: 'ses', region: 'Europe', accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET }],
        '[0].region',
      ],
      [[{ kind: 'resend', apiKey: 'short' }], '[0].apiKey'],
      [[{ kind: 'log', apiKey: SENDGRID_KEY }], '[0]'],
      [[{ kind: 'mailgun' }], '[0].kind'],
    ]
    for (const [body, path] of cases) {
      const error = await errorOf(await put(body), 400, 'invalid_request')
      expect(error.details.issues[0].path, JSON.stringify(body)).toBe(path)
      for (const secret of SECRETS) expect(JSON.stringify(error)).not.toContain(secret)
    }
    // http is for a fake on this machine.
    const local = await put([
      { kind: 'resend', apiKey: 're_local_fake_key', baseUrl: 'http://localhost:8025' },
    ])
    expect(local.status).toBe(200)
  })

  it('show each circuit as the health object holds it', async () => {
    expect(
      (
        await put([
          { kind: 'resend', apiKey: 're_local_fake_key', baseUrl: 'http://localhost:8025' },
          { kind: 'log' },
        ])
      ).status,
    ).toBe(200)
    const now = Date.now()
    await providerHealth(env).report(
      Array.from({ length: 5 }, () => ({ id: 'resend', ok: false, retryable: true })),
      now,
    )
    const { items } = (await (await api('/api/messaging/providers')).json()) as {
      items: { kind: string; health: unknown }[]
    }
    expect(items.map((item) => [item.kind, item.health])).toEqual([
      ['resend', { state: 'open', failures: 5, openUntil: new Date(now + 30_000).toISOString() }],
      ['log', closed],
    ])
  })

  it('may be read by marketers and changed by admins only', async () => {
    const analyst = await keyOf('analyst')
    await errorOf(await api('/api/messaging/providers', { key: analyst }), 403, 'forbidden')
    await errorOf(await put([{ kind: 'log' }], analyst), 403, 'forbidden')
    const marketer = await keyOf('marketer')
    expect((await api('/api/messaging/providers', { key: marketer })).status).toBe(200)
    await errorOf(await put([{ kind: 'log' }], marketer), 403, 'forbidden')
  })
})
