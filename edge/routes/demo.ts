import { Hono } from 'hono'
import type { Env } from '../env'

/** The source whose write key the demo shop pages embed (created by `npm start`'s seed). */
export const DEMO_SOURCE_NAME = 'Demo shop'
const PLACEHOLDER = '__WRITE_KEY__'

/**
 * The demo shop is static (tracker/demo, built into dist/site/demo); its pages name the write
 * key with a placeholder that is filled in here, so a fresh stack's demo works without a build
 * that knows the key.
 */
export function demoRoutes() {
  const app = new Hono<{ Bindings: Env }>()
  app.get('/demo/*', async (c) => {
    const asset = await c.env.ASSETS.fetch(c.req.raw)
    if (!asset.headers.get('Content-Type')?.includes('text/html')) return asset
    const source = await c.env.DB.prepare(
      'SELECT write_key FROM sources WHERE name = ? AND enabled = 1 ORDER BY created_at LIMIT 1',
    )
      .bind(DEMO_SOURCE_NAME)
      .first<{ write_key: string }>()
    const html = (await asset.text()).replaceAll(PLACEHOLDER, source?.write_key ?? '')
    const headers = new Headers(asset.headers)
    headers.delete('Content-Length')
    headers.delete('ETag')
    headers.set('Cache-Control', 'no-store')
    return new Response(html, { status: asset.status, headers })
  })
  return app
}
