// A stand-in for Cairn's edge in tracker tests: serves /t.js and records what the tracker posts
// to /v1/*, answering as the real ingestion path does (or as a test tells it to: 429, 5xx ...).
// The end-to-end tests (*.e2e.test.ts) run the same pages against the real local stack.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  path: string
  query: URLSearchParams
  contentType: string | undefined
  origin: string | undefined
  body: Record<string, any>
  at: number
  /** The status the edge answered with. */
  answered?: number
}

export type Answer = {
  status: number
  headers?: Record<string, string>
  body?: unknown
  /** Answer this much later, as a slow edge would. */
  delayMs?: number
}
/** Decides the answer to one POST; the default accepts everything. */
export type Responder = (request: Received) => Answer

const accept: Responder = (request) => ({
  status: 200,
  body: { success: true, accepted: request.body.batch?.length ?? 1, rejected: [] },
})

export interface Server {
  url: string
  close(): Promise<void>
}

/** An HTTP server on a free port of 127.0.0.1. */
export async function serve(
  handle: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => handle(req, res, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface MockEdge extends Server {
  /** Every POST to /v1/*, in arrival order (answered or not). */
  received: Received[]
  /**
   * Messages of the batches answered 200, in arrival order and each messageId once, as the real
   * edge stores them (the tracker delivers at least once: a batch sent as the page goes away is
   * sent again by the next page, which never learnt it had arrived).
   */
  messages(): Record<string, any>[]
  respond: Responder
}

export async function startMockEdge(trackerCode: string): Promise<MockEdge> {
  const edge = {
    received: [] as Received[],
    messages: () =>
      [
        ...new Map(
          edge.received
            .filter((r) => r.path == '/v1/batch' && r.answered == 200)
            .flatMap((r) => r.body.batch ?? [])
            .reverse()
            .map((m) => [m.messageId, m]),
        ).values(),
      ].reverse(),
    respond: accept,
  } as MockEdge
  const server = await serve((req, res, raw) => {
    const url = new URL(req.url!, 'http://edge')
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-expose-headers': 'retry-after',
    }
    if (req.method == 'GET' && url.pathname == '/t.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' })
      return res.end(trackerCode)
    }
    if (req.method == 'OPTIONS') {
      // The tracker never needs a preflight; answering one badly makes a test fail loudly.
      res.writeHead(405, cors)
      return res.end()
    }
    if (req.method == 'POST' && url.pathname.startsWith('/v1/')) {
      let body: Record<string, any> = {}
      try {
        body = JSON.parse(raw)
      } catch {}
      const request: Received = {
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers['content-type'],
        origin: req.headers.origin,
        body,
        at: Date.now(),
      }
      edge.received.push(request)
      const answer = edge.respond(request)
      setTimeout(() => {
        request.answered = answer.status
        res.writeHead(answer.status, {
          'content-type': 'application/json',
          ...cors,
          ...answer.headers,
        })
        res.end(JSON.stringify(answer.body ?? {}))
      }, answer.delayMs ?? 0)
      return
    }
    res.writeHead(404)
    res.end()
  })
  return Object.assign(edge, server)
}
