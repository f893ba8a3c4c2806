// The demo shop (tracker/demo) served for tracker tests, from an origin of its own so that the
// tracker's requests are cross-origin as on a customer's site, with /t.js taken from the edge.
import { readFile } from 'node:fs/promises'
import { extname, join, normalize } from 'node:path'
import { serve, type Server } from './mock-edge.ts'

const DEMO = join(import.meta.dirname, '../../demo')
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.pdf': 'application/pdf',
}

export interface SiteOptions {
  edgeUrl: string
  writeKey?: string
  /** Extra attributes for the tracker's <script> tag, e.g. `data-consent="opt-in"`. */
  scriptAttributes?: string
  /** Response headers for every page, e.g. a Content-Security-Policy. */
  headers?: Record<string, string>
  /** Extra pages: path -> HTML (use `{{tracker}}` where the tracker's script tag goes). */
  pages?: Record<string, string>
}

export const trackerTag = (options: SiteOptions) =>
  `<script defer src="${options.edgeUrl}/t.js" data-write-key="${options.writeKey ?? 'wk_test'}" ` +
  `${options.scriptAttributes ?? ''}></script>`

export function startSite(options: SiteOptions): Promise<Server> {
  return serve(async (req, res) => {
    let path = new URL(req.url!, 'http://site').pathname
    if (path == '/favicon.ico') return res.writeHead(204).end()
    if (path.endsWith('/')) path += 'index.html'
    let file = options.pages?.[path]
    if (file === undefined && path.startsWith('/demo/'))
      file = await readFile(join(DEMO, normalize(path.slice('/demo'.length))), 'utf8').catch(
        () => undefined,
      )
    if (file === undefined) {
      res.writeHead(404, { 'content-type': 'text/html' })
      return res.end('<!doctype html><title>Not found</title><p>Not found</p>')
    }
    const html = file
      // The demo's own tag (relative src, placeholder key) becomes one pointing at the edge.
      .replace(/<script\s+defer\s+src="\/t\.js"[^>]*><\/script>/, trackerTag(options))
      .replace('{{tracker}}', trackerTag(options))
    res.writeHead(200, {
      'content-type': TYPES[extname(path)] ?? TYPES['.html']!,
      'cache-control': 'no-store',
      ...options.headers,
    })
    res.end(html)
  })
}
