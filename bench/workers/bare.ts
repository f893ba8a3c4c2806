/**
 * Ceiling 1: the runtime alone. Answers every request with 204 without reading it, so its
 * throughput is what workerd, miniflare's entry worker and the load generator allow.
 */
export default {
  async fetch(): Promise<Response> {
    return new Response(null, { status: 204 })
  },
}
