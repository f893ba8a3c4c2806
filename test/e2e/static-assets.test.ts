import { describe, expect, inject, it } from 'vitest'

const url = inject('stackUrl')

describe('static assets', () => {
  it('serves /t.js with a content-hash ETag and long-lived caching, and revalidates it', async () => {
    const first = await fetch(`${url}/t.js`)
    expect(first.status).toBe(200)
    expect(first.headers.get('Content-Type')).toMatch(/javascript/)
    expect(first.headers.get('Cache-Control')).toContain('max-age=86400')
    const etag = first.headers.get('ETag')
    expect(etag).toBeTruthy()
    const body = await first.text()
    expect(new TextEncoder().encode(body).length).toBeLessThan(3_000)
    const again = await fetch(`${url}/t.js`, { headers: { 'If-None-Match': etag! } })
    expect(again.status).toBe(304)
  })

  it('serves console deep links as the app and the demo shop with its write key filled in', async () => {
    const deep = await fetch(`${url}/contacts/some-user`)
    expect(deep.status).toBe(200)
    expect(await deep.text()).toContain('<div id="app">')
    const demo = await (await fetch(`${url}/demo/`)).text()
    expect(demo).toContain('src="/t.js"')
    expect(demo).not.toContain('__WRITE_KEY__')
  })
})
