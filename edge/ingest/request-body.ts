import { ApiError } from '../errors'

/** HTTP's content codings a client may compress a body with, as DecompressionStream names them. */
const DECODERS: Record<string, 'gzip' | 'deflate'> = { gzip: 'gzip', deflate: 'deflate' }

/**
 * The text of a request body, decompressed when its `Content-Encoding` says so. Decompressed
 * bytes count against `maxBytes` as they arrive: a gzip body inflates up to a thousandfold, so
 * one under the wire limit, read whole before being measured, could exhaust the isolate's memory.
 */
export async function requestText(request: Request, maxBytes: number): Promise<string> {
  const encoding = request.headers.get('Content-Encoding')?.trim().toLowerCase()
  if (!encoding || encoding === 'identity') return request.text()
  const format = DECODERS[encoding]
  if (!format) {
    throw new ApiError(
      415,
      'unsupported_encoding',
      `Content-Encoding "${encoding}" is not supported; send the body uncompressed, gzip or deflate`,
    )
  }
  if (!request.body) return ''
  const reader = request.body.pipeThrough(new DecompressionStream(format)).getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  for (;;) {
    const chunk = await reader.read().catch(() => {
      throw new ApiError(400, 'invalid_encoding', `The body is not valid ${encoding} data`)
    })
    if (chunk.done) return text + decoder.decode()
    bytes += chunk.value.byteLength
    if (bytes > maxBytes) {
      await reader.cancel()
      throw new ApiError(
        413,
        'payload_too_large',
        `Request body exceeds ${maxBytes} bytes once decompressed`,
      )
    }
    text += decoder.decode(chunk.value, { stream: true })
  }
}
