import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { api, createSource, send, uid } from '../../test/support/api'

interface AuditPage {
  items: {
    seq: number
    action: string
    actorKeyId: string
    status: number
    subjectHash: string | null
  }[]
  cursor: string | null
}

describe('audit log', () => {
  it('records management actions and personal data reads, filterable by subject and actor', async () => {
    const { writeKey } = await createSource({ name: 'Audited' })
    const person = uid('person')
    await send('/v1/track', writeKey, { userId: person, event: 'Visited' })
    await api(`/api/contacts/${person}`)
    await api(`/api/contacts/${person}/events`)
    await api('/api/insights/overview')

    const trail = (await (await api(`/api/audit?subject=${person}`)).json()) as AuditPage
    expect(trail.items.map((e) => e.action)).toEqual([
      'GET /api/contacts/{id}/events',
      'GET /api/contacts/{id}',
    ])
    expect(trail.items.every((e) => e.actorKeyId === 'bootstrap' && e.status === 200)).toBe(true)
    expect(JSON.stringify(trail)).not.toContain(person)

    const byActor = (await (await api('/api/audit?actor=bootstrap&limit=1000')).json()) as AuditPage
    expect(byActor.items.map((e) => e.action)).toContain('POST /api/sources')
    expect(byActor.items.map((e) => e.action)).not.toContain('GET /api/insights/overview')
  })

  it('verifies the chain and names the first row altered directly in D1', async () => {
    for (let i = 0; i < 5; i++)
      await api('/api/sources', { method: 'POST', json: { name: `Chain ${i}` } })
    const good = (await (await api('/api/audit/verify')).json()) as { ok: boolean; rows: number }
    expect(good.ok).toBe(true)
    expect(good.rows).toBeGreaterThanOrEqual(5)

    const victim = await env.DB.prepare(
      'SELECT seq FROM audit_log ORDER BY seq LIMIT 1 OFFSET 2',
    ).first<{ seq: number }>()
    await env.DB.prepare("UPDATE audit_log SET action = 'GET /api/nothing-to-see' WHERE seq = ?")
      .bind(victim!.seq)
      .run()
    const bad = (await (await api('/api/audit/verify')).json()) as {
      ok: boolean
      firstBroken: { seq: number; reason: string }
    }
    expect(bad.ok).toBe(false)
    expect(bad.firstBroken.seq).toBe(victim!.seq)
    expect(bad.firstBroken.reason).toContain('altered')

    await env.DB.prepare('DELETE FROM audit_log WHERE seq = ?').bind(victim!.seq).run()
    const gap = (await (await api('/api/audit/verify')).json()) as {
      ok: boolean
      firstBroken: { seq: number; reason: string }
    }
    expect(gap.firstBroken).toMatchObject({
      seq: victim!.seq,
      reason: expect.stringContaining('missing'),
    })
  })
})
