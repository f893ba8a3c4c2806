/**
 * Bench-only, started beside Cairn on the same D1 database: runs one statement the bench sends
 * over plain HTTP (`/__bench/d1`, see bench/d1-client.ts). The bench's own reads must not go
 * through miniflare's Node-side D1 proxy, whose `prepare()` blocks Node's thread: if workerd
 * then fills its output pipe (which that thread reads), each waits for the other.
 */
interface Env {
  DB: D1Database
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { query, params } = (await request.json()) as { query: string; params: unknown[] }
    try {
      const { results } = await env.DB.prepare(query)
        .bind(...params)
        .all()
      return Response.json({ results })
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 })
    }
  },
}
