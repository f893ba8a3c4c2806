import type { MessageType } from '../../contracts/stored-event'
import { OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi'
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { contactStub } from '../../durable/contact-client'
import { sha256Hex } from '../access/secrets'
import { BROWSER_CONSENT_METHODS } from '../../domain/consent'
import { canonicalKey, usableId } from '../../domain/identity'
import { ApiError, ErrorSchema, errorResponse, validationError } from '../errors'
import type { Env } from '../env'
import {
  BatchSchema,
  IdSchema,
  IngestResponseSchema,
  MessageSchema,
} from '../ingest/message-schema'
import { MAX_BATCH_BYTES, type Envelope } from '../ingest/normalize'
import { assertJsonDepth } from '../middleware/json-limits'
import { requestText } from '../ingest/request-body'
import { hashClientIp, ingestMessages } from '../ingest/pipeline'
import {
  originAllowed,
  originAllowedByAnySource,
  sourceByWriteKey,
  type Source,
} from '../ingest/sources'
import { PurposesSchema } from './common'

type IngestEnv = { Bindings: Env; Variables: { originRefused: boolean } }

/**
 * Segment's full paths, analytics.js's short browser paths, and RudderStack's beacon path. The
 * router serves these tables and registerDocs describes them, so the document lists every path
 * that answers and no other.
 */
const SINGLE_PATHS: Record<string, MessageType> = {
  '/v1/track': 'track',
  '/v1/t': 'track',
  '/v1/identify': 'identify',
  '/v1/i': 'identify',
  '/v1/page': 'page',
  '/v1/p': 'page',
  '/v1/screen': 'screen',
  '/v1/s': 'screen',
  '/v1/group': 'group',
  '/v1/g': 'group',
  '/v1/alias': 'alias',
  '/v1/a': 'alias',
}
const BATCH_PATHS = ['/v1/batch', '/v1/b', '/beacon/v1/batch']
const CONSENT_PATH = '/v1/consent'

export const ConsentBodySchema = z
  .object({
    userId: IdSchema.nullish(),
    anonymousId: IdSchema.nullish(),
    purposes: PurposesSchema,
    policyVersion: z.string().trim().min(1).max(100).default('unversioned'),
    source: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .default('tracker')
      .openapi({
        example: 'cookie-banner',
        description:
          "The page's own label for where the decision was made. Anyone can send it, so the " +
          'ledger records it after the id of the source whose write key carried the request, as ' +
          '`<sourceId>:<label>` (`src_…:cookie-banner`).',
      }),
    method: z
      .enum(BROWSER_CONSENT_METHODS, {
        error:
          'must be banner, tcf or gpc; decisions taken by staff or imported (api, import) ' +
          'are recorded through POST /api/contacts/{id}/consent',
      })
      .default('banner')
      .openapi({
        description:
          'What a browser can claim: its banner, its IAB TCF CMP, its Global Privacy Control ' +
          'signal. The write key is public, so `api` and `import` are refused here (400).',
      }),
    writeKey: z.string().optional(),
  })
  .openapi('ConsentDecision')

/**
 * The answer to a consent decision: the purposes as this request decided them (advertising
 * denied under GPC), never the person's state. The write key is in every page, so the answer
 * must tell nobody another person's decisions, nor whether that person was erased.
 */
const ConsentAnswerSchema = z
  .object({
    success: z.literal(true),
    consent: z
      .record(z.string(), z.boolean())
      .nullable()
      .openapi({
        description:
          'The purposes this decision set, as recorded; null when neither id was sent ' +
          '(nobody to record it for).',
        example: { analytics: true, marketing: false },
      }),
  })
  .openapi('ConsentAnswer')

/** Seconds a rate-limited client should wait; the limiter's window is 10 s. */
const RETRY_AFTER_LIMITED = '10'

export function ingestRoutes() {
  const app = new OpenAPIHono<IngestEnv>()
  // Mounted at '/', so '*' would reach /api too: only the tracking paths answer other origins.
  for (const path of [...Object.keys(SINGLE_PATHS), ...BATCH_PATHS, CONSENT_PATH]) {
    app.use(path, readableByBrowsers)
  }
  const limit = bodyLimit({
    maxSize: MAX_BATCH_BYTES,
    onError: (c) =>
      errorResponse(
        c,
        new ApiError(413, 'payload_too_large', `Request body exceeds ${MAX_BATCH_BYTES} bytes`),
      ),
  })

  for (const path of [...Object.keys(SINGLE_PATHS), ...BATCH_PATHS]) {
    app.options(path, preflight)
    app.post(path, limit, (c) => handleIngest(c, SINGLE_PATHS[path]))
    app.all(path, postOnly)
  }
  app.options(CONSENT_PATH, preflight)
  app.post(CONSENT_PATH, limit, handleConsent)
  app.all(CONSENT_PATH, postOnly)
  registerDocs(app)
  return app
}

/**
 * A browser can read an answer (and its Retry-After) only with CORS headers, so every answer
 * to an origin carries them, errors included; only an origin the source refuses gets none.
 */
const readableByBrowsers: MiddlewareHandler<IngestEnv> = async function readableByBrowsers(
  c,
  next,
) {
  await next()
  const origin = c.req.header('Origin')
  if (!origin || c.get('originRefused')) return
  c.res.headers.set('Access-Control-Allow-Origin', origin)
  c.res.headers.set('Access-Control-Expose-Headers', 'Retry-After')
  c.res.headers.append('Vary', 'Origin')
}

/** A GET to a tracking path is a wrong method, not a missing route. */
function postOnly(c: Context<IngestEnv>): never {
  throw new ApiError(
    405,
    'method_not_allowed',
    `${c.req.method} ${c.req.path} is not allowed; send POST`,
    undefined,
    { Allow: 'POST, OPTIONS' },
  )
}

/** Allows what a source might allow; the request itself answers for its own source. */
async function preflight(c: Context<IngestEnv>) {
  const origin = c.req.header('Origin')
  if (origin && (await originAllowedByAnySource(c.env, origin))) {
    c.header('Access-Control-Allow-Methods', 'POST, OPTIONS')
    c.header('Access-Control-Allow-Headers', 'Content-Type, Authorization, Content-Encoding')
    c.header('Access-Control-Max-Age', '86400')
  } else {
    c.set('originRefused', true)
  }
  return c.body(null, 204)
}

/**
 * A consent decision from a banner or CMP, recorded in the person's ContactDO ledger with a
 * hashed IP and user agent as evidence, and the source whose write key carried it. Global
 * Privacy Control overrides an advertising grant. The answer is the same whether the decision
 * was recorded, was already in force, or was dropped because the person was erased (their
 * identifiers are suppressed, as for their events): see ConsentAnswerSchema.
 */
async function handleConsent(c: Context<IngestEnv>) {
  const { body, source } = await admit(c)
  const parsed = ConsentBodySchema.safeParse(body)
  if (!parsed.success) throw validationError(parsed.error.issues, 'consent')
  const input = parsed.data
  const userId = usableId(input.userId)
  const anonymousId = usableId(input.anonymousId)
  const key = canonicalKey({ userId, anonymousId })
  // A refusal before any id exists (opt-in banners) concerns nobody Cairn knows: nothing to record.
  if (!key) return c.json({ success: true as const, consent: null }, 200)
  const client = clientInfo(c)
  // The user agent is evidence of where the decision was made, whoever relayed it.
  const userAgent = c.req.header('User-Agent')
  const purposes = client.gpc ? { ...input.purposes, advertising: false } : input.purposes
  const record = {
    purposes,
    policyVersion: input.policyVersion,
    source: `${source.id}:${input.source}`,
    method: input.method,
    identity: userId ?? anonymousId,
    ipHash: client.ip ? await hashClientIp(c.env, client.ip) : null,
    userAgentHash: userAgent ? await sha256Hex(userAgent) : null,
  }
  try {
    await contactStub(c.env, key).recordConsent(key, record)
  } catch (error) {
    // As for events (pipeline.ts): the decision was not stored, and the client may send it again.
    console.error('consent storage failed', error)
    throw new ApiError(
      503,
      'storage_unavailable',
      'The decision could not be stored; retry',
      undefined,
      {
        'Retry-After': '1',
      },
    )
  }
  return c.json({ success: true as const, consent: purposes }, 200)
}

async function handleIngest(c: Context<IngestEnv>, impliedType: MessageType | undefined) {
  const { body, source, bodyChars } = await admit(c)

  let raws: unknown[]
  let envelope: Envelope = {}
  if (impliedType) {
    raws = [body]
  } else {
    const parsed = BatchSchema.safeParse(body)
    if (!parsed.success) {
      throw new ApiError(
        400,
        'invalid_batch',
        'A batch is an object with a "batch" array of messages',
      )
    }
    raws = parsed.data.batch
    envelope = parsed.data
  }

  const outcome = await ingestMessages(
    c.env,
    source,
    raws,
    envelope,
    clientInfo(c),
    bodyChars,
    impliedType,
  )
  const [rejection] = outcome.rejected
  if (impliedType && rejection) {
    throw new ApiError(400, rejection.code, rejection.message)
  }
  return c.json({ success: true as const, ...outcome }, 200)
}

/** What every /v1 request goes through: body, write key, origin, rate limit. */
async function admit(c: Context<IngestEnv>) {
  const { body, chars } = await readJsonBody(c)
  const source = await authenticate(c, body)
  allowOrigin(c, source)
  await enforceRateLimit(c, source)
  return { body, source, bodyChars: chars }
}

/** Beacons (sendBeacon) cannot set a content type, so any type is read as JSON. */
async function readJsonBody(
  c: Context<IngestEnv>,
): Promise<{ body: Record<string, unknown>; chars: number }> {
  const text = await requestText(c.req.raw, MAX_BATCH_BYTES)
  assertJsonDepth(text)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON')
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_json', 'The request body must be a JSON object')
  }
  return { body: body as Record<string, unknown>, chars: text.length }
}

/** Segment SDKs send the write key as Basic auth user; beacons put it in the body or query. */
async function authenticate(c: Context<IngestEnv>, body: Record<string, unknown>): Promise<Source> {
  const writeKey =
    basicAuthUser(c.req.header('Authorization')) ??
    (typeof body.writeKey === 'string' ? body.writeKey : undefined) ??
    c.req.query('writeKey')
  if (!writeKey) {
    throw new ApiError(
      401,
      'missing_write_key',
      'Send the write key as HTTP Basic user, as "writeKey" in the body, or as ?writeKey=',
    )
  }
  const source = await sourceByWriteKey(c.env, writeKey)
  if (!source) throw new ApiError(401, 'invalid_write_key', 'Unknown write key')
  if (!source.enabled)
    throw new ApiError(403, 'source_disabled', `Source "${source.name}" is disabled`)
  return source
}

function basicAuthUser(header: string | undefined): string | undefined {
  const match = header?.match(/^Basic\s+(.+)$/i)
  if (!match) return undefined
  try {
    const decoded = atob(match[1]!)
    const user = decoded.split(':')[0]
    return user || undefined
  } catch {
    return undefined
  }
}

function allowOrigin(c: Context<IngestEnv>, source: Source) {
  const origin = c.req.header('Origin')
  if (!origin) return
  if (!originAllowed(source, origin)) {
    c.set('originRefused', true)
    throw new ApiError(403, 'origin_not_allowed', `Origin ${origin} is not allowed for this source`)
  }
}

async function enforceRateLimit(c: Context<IngestEnv>, source: Source) {
  if (!c.env.INGEST_LIMITER) return
  const ip = c.req.header('CF-Connecting-IP') ?? 'unknown'
  const { success } = await c.env.INGEST_LIMITER.limit({ key: `${source.id}:${ip}` })
  if (!success) {
    throw new ApiError(
      429,
      'rate_limited',
      'Too many requests for this write key from this address',
      undefined,
      { 'Retry-After': RETRY_AFTER_LIMITED },
    )
  }
}

/**
 * A server-side SDK's own HTTP user agent says nothing about the person (and looks like a bot),
 * so the request's user agent describes the device only when a browser sent the request.
 */
function clientInfo(c: Context<IngestEnv>) {
  const cf = c.req.raw.cf as { country?: string; timezone?: string } | undefined
  // Browsers send Origin on every POST; Sec-Fetch-* is no sign, Node's fetch sends it too.
  const fromBrowser = Boolean(c.req.header('Origin'))
  return {
    userAgent: fromBrowser ? c.req.header('User-Agent') : undefined,
    timezone: fromBrowser ? cf?.timezone : undefined,
    locale: fromBrowser
      ? c.req.header('Accept-Language')?.split(/[,;]/)[0]?.trim() || undefined
      : undefined,
    ip: c.req.header('CF-Connecting-IP'),
    country: cf?.country,
    gpc: c.req.header('Sec-GPC') === '1',
  }
}

function registerDocs(app: OpenAPIHono<IngestEnv>) {
  app.openAPIRegistry.register('SegmentMessage', MessageSchema)
  const responses: RouteConfig['responses'] = {
    200: {
      description: 'Accepted; `rejected` lists the messages that were not, by index',
      content: { 'application/json': { schema: IngestResponseSchema } },
    },
    400: {
      description:
        'Malformed JSON or compressed data, or (single-message paths) the message was rejected',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    401: {
      description: 'Missing or unknown write key',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    403: {
      description: 'Source disabled or origin not allowed',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    413: {
      description: 'Body over 500 KB, as sent or once decompressed',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    415: {
      description: 'A Content-Encoding other than gzip or deflate',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    429: {
      description: 'Rate limited; see Retry-After',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    503: {
      description: 'Storage unavailable; retry',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  }
  // authenticate() also takes the write key as "writeKey" in the body, which no scheme can say.
  const security: RouteConfig['security'] = [{ writeKeyBasic: [] }, { writeKeyQuery: [] }]
  app.openAPIRegistry.registerComponent('securitySchemes', 'writeKeyBasic', {
    type: 'http',
    scheme: 'basic',
    description: 'The write key as user name, empty password (or "writeKey" in the body)',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'writeKeyQuery', {
    type: 'apiKey',
    in: 'query',
    name: 'writeKey',
    description: 'The write key in the query, for beacons that cannot set a header',
  })
  for (const [path, type] of Object.entries(SINGLE_PATHS)) {
    const fullPath = `/v1/${type}`
    app.openAPIRegistry.registerPath({
      method: 'post',
      path,
      tags: ['ingestion'],
      summary:
        path === fullPath
          ? `Send one ${type} message`
          : `Send one ${type} message (short path of ${fullPath})`,
      security,
      request: { body: { content: { 'application/json': { schema: MessageSchema } } } },
      responses,
    })
  }
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: CONSENT_PATH,
    tags: ['ingestion'],
    summary: "Record a consent decision in the person's ledger",
    description:
      'For banners and CMPs in the browser. The answer echoes the purposes this request decided, ' +
      "never the person's effective consent, and is the same whether the decision was recorded, " +
      'repeated one already in force (recorded once), or concerned a person who was erased (not ' +
      'recorded: their identifiers are suppressed, as for their events). Decisions taken by ' +
      'staff or imported go through `POST /api/contacts/{id}/consent`, which is audited.',
    security,
    request: { body: { content: { 'application/json': { schema: ConsentBodySchema } } } },
    responses: {
      200: {
        description: 'Accepted; the purposes as decided by this request',
        content: { 'application/json': { schema: ConsentAnswerSchema } },
      },
      400: {
        description: 'Malformed decision, an unknown purpose, or a method a browser cannot claim',
        content: { 'application/json': { schema: ErrorSchema } },
      },
      401: responses[401]!,
      403: responses[403]!,
      413: responses[413]!,
      415: responses[415]!,
      429: responses[429]!,
      503: responses[503]!,
    },
  })
  const [batchPath] = BATCH_PATHS
  for (const path of BATCH_PATHS) {
    app.openAPIRegistry.registerPath({
      method: 'post',
      path,
      tags: ['ingestion'],
      summary:
        path === batchPath
          ? 'Send a batch of messages'
          : `Send a batch of messages (same as ${batchPath})`,
      security,
      request: { body: { content: { 'application/json': { schema: BatchSchema } } } },
      responses,
    })
  }
}
