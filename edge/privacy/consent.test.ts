import { describe, expect, it } from 'vitest'
import { api, createSource, d1Count, eventually, send, uid } from '../../test/support/api'

async function consentOf(id: string) {
  const response = await api(`/api/contacts/${encodeURIComponent(id)}/consent`)
  return {
    status: response.status,
    body: (await response.json()) as { current: Record<string, boolean | null>; ledger: any[] },
  }
}

describe('consent enforcement', () => {
  it('stores nothing identifying in an opt-in source before consent, and everything after', async () => {
    const { writeKey, id: sourceId } = await createSource({
      name: 'Opt-in site',
      consentMode: 'opt-in',
    })
    const visitor = uid('visitor')
    const page = (name: string) => ({
      type: 'page',
      anonymousId: visitor,
      name,
      context: { page: { url: `https://eu.example/${name}` } },
    })
    const before = await send('/v1/batch', writeKey, {
      batch: [page('before-1'), page('before-2')],
    })
    expect(await before.json()).toMatchObject({ accepted: 2 })
    expect((await api(`/api/contacts/anon:${visitor}`)).status).toBe(404)
    // Counted without identifiers: the rollups see two page views, no row names the visitor.
    await eventually(
      async () =>
        (await d1Count(
          "SELECT COUNT(*) AS n FROM events WHERE contact_key = '(withheld)' AND path = '/before-1'",
        )) === 1,
    )
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM events WHERE anonymous_id = ? OR contact_key = ?',
        visitor,
        `anon:${visitor}`,
      ),
    ).toBe(0)
    // Withheld events count as page views but never as a visitor.
    expect(
      await d1Count("SELECT COUNT(*) AS n FROM contact_days WHERE contact_key = '(withheld)'"),
    ).toBe(0)

    const granted = await send(
      '/v1/consent',
      writeKey,
      {
        anonymousId: visitor,
        purposes: { analytics: true, marketing: false },
        policyVersion: '2026-11',
        source: 'cookie-banner',
      },
      { 'User-Agent': 'Mozilla/5.0 Test', 'CF-Connecting-IP': '192.0.2.10' },
    )
    expect(granted.status).toBe(200)
    expect(await granted.json()).toEqual({
      success: true,
      consent: { analytics: true, marketing: false },
    })
    await send('/v1/batch', writeKey, { batch: [page('after')] })
    const events = (await (await api(`/api/contacts/anon:${visitor}/events`)).json()) as {
      items: { name: string }[]
    }
    expect(events.items.map((e) => e.name)).toEqual(['after'])

    const { body } = await consentOf(`anon:${visitor}`)
    expect(body.ledger).toEqual([
      expect.objectContaining({
        purposes: { analytics: true, marketing: false },
        policyVersion: '2026-11',
        source: `${sourceId}:cookie-banner`,
        method: 'banner',
        identity: visitor,
        ipHash: expect.stringMatching(/^[0-9a-f]{32}$/),
        userAgentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ])
    expect(JSON.stringify(body)).not.toContain('192.0.2.10')

    await send('/v1/consent', writeKey, {
      anonymousId: visitor,
      purposes: { analytics: false },
      policyVersion: '2026-11',
      source: 'cookie-banner',
    })
    await send('/v1/batch', writeKey, { batch: [page('withdrawn')] })
    const later = (await (await api(`/api/contacts/anon:${visitor}/events`)).json()) as {
      items: { name: string }[]
    }
    expect(later.items.map((e) => e.name)).toEqual(['after'])
  })

  it('stores in an opt-out source until analytics is withdrawn', async () => {
    const { writeKey } = await createSource({ name: 'Opt-out site', consentMode: 'opt-out' })
    const user = uid('user')
    await send('/v1/track', writeKey, { userId: user, event: 'First' })
    await api(`/api/contacts/${user}/consent`, {
      method: 'POST',
      json: { purposes: { analytics: false }, policyVersion: 'v3', source: 'support-desk' },
    })
    await send('/v1/track', writeKey, { userId: user, event: 'Second' })
    const events = (await (await api(`/api/contacts/${user}/events`)).json()) as {
      items: { event: string }[]
    }
    expect(events.items.map((e) => e.event)).toEqual(['First'])
    const { body } = await consentOf(user)
    expect(body.current.analytics).toBe(false)
    expect(body.ledger[0]).toMatchObject({ method: 'api', source: 'support-desk' })
  })

  it('records Global Privacy Control as an advertising denial, once', async () => {
    const { writeKey } = await createSource({ name: 'GPC site' })
    const user = uid('user')
    for (let i = 0; i < 3; i++)
      await send('/v1/track', writeKey, { userId: user, event: `E${i}` }, { 'Sec-GPC': '1' })
    const { body } = await consentOf(user)
    expect(body.current).toEqual({
      analytics: null,
      marketing: null,
      personalization: null,
      advertising: false,
    })
    expect(body.ledger).toEqual([
      expect.objectContaining({ purposes: { advertising: false }, source: 'gpc', method: 'gpc' }),
    ])
    // A banner grant of advertising from a GPC browser is recorded as denied.
    const response = await send(
      '/v1/consent',
      writeKey,
      {
        userId: user,
        purposes: { advertising: true, analytics: true },
        policyVersion: 'v1',
        source: 'banner',
      },
      { 'Sec-GPC': '1' },
    )
    expect(await response.json()).toMatchObject({
      consent: { advertising: false, analytics: true },
    })
  })

  it('applies a withdrawal made under any linked identity to the person', async () => {
    const { writeKey } = await createSource({ name: 'Linked site' })
    const anon = uid('anon')
    const user = uid('user')
    await send('/v1/track', writeKey, { anonymousId: anon, event: 'Browsing' })
    await send('/v1/consent', writeKey, {
      anonymousId: anon,
      purposes: { marketing: true },
      policyVersion: 'v1',
      source: 'banner',
    })
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon })
    expect((await consentOf(user)).body.current.marketing).toBe(true)
    // The old device withdraws; the withdrawal lands on the merged contact.
    await send('/v1/consent', writeKey, {
      anonymousId: anon,
      purposes: { marketing: false },
      policyVersion: 'v1',
      source: 'banner',
    })
    const { body } = await consentOf(user)
    expect(body.current.marketing).toBe(false)
    expect(body.ledger).toHaveLength(2)
    await eventually(
      async () =>
        (await d1Count(
          'SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key = ? AND marketing = 0',
          user,
        )) === 1,
    )
    const totals = (await (await api('/api/consent/totals')).json()) as {
      purposes: Record<string, { denied: number }>
    }
    expect(totals.purposes.marketing!.denied).toBeGreaterThanOrEqual(1)
  })

  it('records a repeated decision once and accepts a refusal made before any id', async () => {
    const { writeKey, id: sourceId } = await createSource({ name: 'CMP site' })
    const visitor = uid('visitor')
    const decision = {
      anonymousId: visitor,
      purposes: { analytics: true, marketing: false },
      writeKey,
    }
    for (let i = 0; i < 3; i++) expect((await send('/v1/consent', null, decision)).status).toBe(200)
    const { body } = await consentOf(`anon:${visitor}`)
    expect(body.ledger).toEqual([
      expect.objectContaining({ policyVersion: 'unversioned', source: `${sourceId}:tracker` }),
    ])
    await send('/v1/consent', null, { ...decision, policyVersion: 'v2' })
    expect((await consentOf(`anon:${visitor}`)).body.ledger).toHaveLength(2)
    const anonymousRefusal = await send('/v1/consent', writeKey, { purposes: { analytics: false } })
    expect(anonymousRefusal.status).toBe(200)
    expect(await anonymousRefusal.json()).toEqual({ success: true, consent: null })
  })

  it('rejects a malformed consent decision with the error shape', async () => {
    const { writeKey } = await createSource({ name: 'Bad consent' })
    const response = await send('/v1/consent', writeKey, {
      anonymousId: uid(),
      purposes: { analytics: 'yes' },
      source: 'banner',
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('purposes.analytics') },
    })
  })

  it('refuses a purpose it does not know rather than dropping it', async () => {
    const { writeKey } = await createSource({ name: 'Misspelt consent' })
    const anonymousId = uid()
    const response = await send('/v1/consent', writeKey, {
      anonymousId,
      purposes: { analytics: true, marketting: true },
    })
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', message: expect.stringContaining('marketting') },
    })
    const viaApi = await api(`/api/contacts/anon:${anonymousId}/consent`, {
      method: 'POST',
      json: { purposes: { telepathy: false }, policyVersion: 'v1', source: 'support' },
    })
    expect(viaApi.status).toBe(400)
    expect(await viaApi.json()).toMatchObject({
      error: { message: expect.stringContaining('telepathy') },
    })
  })
})

/** The consent decisions staff recorded about a person, newest first, from the audit log. */
async function auditOf(subject: string) {
  const response = await api(`/api/audit?subject=${encodeURIComponent(subject)}&limit=1000`)
  const page = (await response.json()) as {
    items: { action: string; status: number; detail: unknown }[]
  }
  return page.items.filter((item) => item.action === 'POST /api/contacts/{id}/consent')
}

async function eraseUser(userId: string) {
  const response = await api('/api/privacy/erasure', { method: 'POST', json: { userId } })
  expect(response.status).toBe(202)
  const { id } = (await response.json()) as { id: string }
  await eventually(async () => {
    const status = (await (await api(`/api/privacy/erasure/${id}`)).json()) as { status: string }
    return status.status === 'completed'
  }, 15_000)
}

describe('consent of an erased person', () => {
  it('answers a decision for an erased person without a 5xx and stores nothing', async () => {
    const { writeKey } = await createSource({ name: 'Erased consent' })
    const user = uid('erased')
    const anon = uid('erased-anon')
    await send('/v1/identify', writeKey, { userId: user, anonymousId: anon, traits: { a: 1 } })
    await eraseUser(user)
    const decision = { purposes: { marketing: true }, policyVersion: 'v9', source: 'banner' }

    // The public answer is the same as for anybody: no oracle for who was erased.
    for (const ids of [{ userId: user }, { anonymousId: anon }]) {
      const response = await send('/v1/consent', writeKey, { ...ids, ...decision })
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ success: true, consent: { marketing: true } })
    }
    const viaApi = await api(`/api/contacts/${user}/consent`, {
      method: 'POST',
      json: { purposes: { marketing: true }, policyVersion: 'v9', source: 'support-desk' },
    })
    expect(viaApi.status).toBe(409)
    expect(await viaApi.json()).toMatchObject({
      error: { code: 'contact_suppressed', message: expect.stringContaining('erased') },
    })
    expect(await auditOf(user)).toEqual([
      expect.objectContaining({
        action: 'POST /api/contacts/{id}/consent',
        status: 409,
        detail: expect.objectContaining({ outcome: 'suppressed' }),
      }),
    ])

    expect((await consentOf(user)).status).toBe(404)
    expect((await consentOf(`anon:${anon}`)).status).toBe(404)
    expect(
      await d1Count(
        'SELECT COUNT(*) AS n FROM contact_consent WHERE contact_key IN (?, ?)',
        user,
        `anon:${anon}`,
      ),
    ).toBe(0)
  })
})

describe('consent through the public write key', () => {
  it('accepts only what a browser can claim, and records the source it came through', async () => {
    const { writeKey, id: sourceId } = await createSource({ name: 'Staff impersonation' })
    const user = uid('victim')
    for (const method of ['api', 'import']) {
      const response = await send('/v1/consent', writeKey, {
        userId: user,
        purposes: { analytics: false },
        method,
        source: 'support-desk',
      })
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({
        error: { code: 'invalid_request', message: expect.stringContaining('method') },
      })
    }
    expect((await consentOf(user)).status).toBe(404)

    const tcf = await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { analytics: true },
      method: 'tcf',
      source: 'support-desk',
      policyVersion: 'tcf',
    })
    expect(tcf.status).toBe(200)
    const { body } = await consentOf(user)
    expect(body.ledger).toEqual([
      expect.objectContaining({ method: 'tcf', source: `${sourceId}:support-desk` }),
    ])
  })

  it("answers with the decision just made, never the person's other purposes", async () => {
    const { writeKey } = await createSource({ name: 'No disclosure' })
    const user = uid('private')
    await api(`/api/contacts/${user}/consent`, {
      method: 'POST',
      json: {
        purposes: { marketing: true, personalization: false },
        policyVersion: 'v1',
        source: 'crm-import',
        method: 'import',
      },
    })
    const probe = await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { analytics: true },
      policyVersion: 'v1',
    })
    expect(await probe.json()).toEqual({ success: true, consent: { analytics: true } })
    // A repeat of a decision already in force answers the same, recorded or not.
    const repeat = await send('/v1/consent', writeKey, {
      userId: user,
      purposes: { marketing: true },
      policyVersion: 'v1',
    })
    expect(await repeat.json()).toEqual({ success: true, consent: { marketing: true } })
    expect((await consentOf(user)).body.ledger).toHaveLength(2)
  })

  it('lets staff record only api or import decisions, in the ledger and the audit log', async () => {
    const user = uid('staff')
    const asBanner = await api(`/api/contacts/${user}/consent`, {
      method: 'POST',
      json: {
        purposes: { marketing: false },
        policyVersion: 'v1',
        source: 'desk',
        method: 'banner',
      },
    })
    expect(asBanner.status).toBe(400)
    const recorded = await api(`/api/contacts/${user}/consent`, {
      method: 'POST',
      json: { purposes: { marketing: false }, policyVersion: 'v1', source: 'desk' },
    })
    expect(recorded.status).toBe(200)
    expect((await consentOf(user)).body.ledger).toEqual([
      expect.objectContaining({ method: 'api', source: 'desk', identity: user }),
    ])
    expect(await auditOf(user)).toEqual([
      expect.objectContaining({
        status: 200,
        detail: { purposes: { marketing: false }, method: 'api', outcome: 'recorded' },
      }),
      expect.objectContaining({ status: 400 }),
    ])
  })
})
