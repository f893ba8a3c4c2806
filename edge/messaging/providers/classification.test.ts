import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { ProviderConfig } from '../../../contracts/messaging'
import { createProvider } from './index'
import { fakeFetch, hang, jsonResponse, outgoingEmail } from './testing'

const SECRET = 'sk-live-very-secret-0123456789'

/** Each HTTP provider with a credential, and the answer with which it accepts a message. */
const PROVIDERS: {
  config: ProviderConfig
  name: string
  accepted: () => Response
  id: string
  /** Its status for a message it refuses. */
  refusal: number
}[] = [
  {
    config: { kind: 'sendgrid', apiKey: SECRET },
    name: 'SendGrid',
    accepted: () => new Response(null, { status: 202, headers: { 'X-Message-Id': 'sg-abc' } }),
    id: 'sg-abc',
    refusal: 400,
  },
  {
    config: {
      kind: 'ses',
      region: 'eu-west-1',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: SECRET,
    },
    name: 'SES',
    accepted: () => jsonResponse(200, { MessageId: 'ses-abc' }),
    id: 'ses-abc',
    refusal: 400,
  },
  {
    config: { kind: 'resend', apiKey: SECRET },
    name: 'Resend',
    accepted: () => jsonResponse(200, { id: 're-abc' }),
    id: 're-abc',
    refusal: 422,
  },
  {
    config: { kind: 'postmark', serverToken: SECRET },
    name: 'Postmark',
    accepted: () =>
      jsonResponse(200, {
        MessageID: 'pm-abc',
        ErrorCode: 0,
        Message: 'OK',
        To: 'ann@example.com',
      }),
    id: 'pm-abc',
    refusal: 422,
  },
]

function send(config: ProviderConfig, answer: (request: Request) => Response | Promise<Response>) {
  const { fetch, requests } = fakeFetch(answer)
  const provider = createProvider(config, { fetch, db: env.DB, contactKey: 'ann', timeoutMs: 100 })
  return { result: provider.send(outgoingEmail()), requests }
}

for (const { config, name, accepted, id, refusal } of PROVIDERS) {
  describe(`${name}'s answers`, () => {
    it('are sent on 2xx, with the provider id of the message', async () => {
      expect(await send(config, accepted).result).toEqual({
        ok: true,
        providerMessageId: id,
        httpStatus: accepted().status,
      })
    })

    it('are retryable on 429 and 5xx: another provider may send the message', async () => {
      for (const status of [429, 500, 503]) {
        const { result } = send(config, () => jsonResponse(status, { message: 'busy' }))
        expect(await result).toMatchObject({ ok: false, retryable: true, httpStatus: status })
        expect(((await result) as { error: string }).error).toMatch(
          new RegExp(`^${name}.* ${status}`),
        )
      }
    })

    it(`are permanent on ${refusal}: the message itself was refused`, async () => {
      const { result } = send(config, () => jsonResponse(refusal, { message: 'bad address' }))
      expect(await result).toMatchObject({ ok: false, retryable: false, httpStatus: refusal })
    })

    it('are retryable on rejected credentials, which say nothing about the message', async () => {
      const { result } = send(config, () => jsonResponse(401, { message: 'unauthorized' }))
      expect(await result).toMatchObject({ ok: false, retryable: true, httpStatus: 401 })
    })

    it('are retryable when the network fails', async () => {
      const { result } = send(config, () => {
        throw new TypeError('Network connection lost')
      })
      expect(await result).toEqual({
        ok: false,
        retryable: true,
        error: `${name}: Network connection lost`,
      })
    })

    it('are retryable when none comes in time, even from a fetch that ignores its signal', async () => {
      const started = Date.now()
      const { result } = send(config, hang)
      expect(await result).toEqual({
        ok: false,
        retryable: true,
        error: `${name}: no answer in 100 ms`,
      })
      expect(Date.now() - started).toBeLessThan(2_000)
    })

    it('never put the credentials in an error, whatever the provider echoes', async () => {
      const echo = {
        message: `bad key ${SECRET}`,
        Message: `bad key ${SECRET}`,
        errors: [{ message: `bad key ${SECRET}` }],
      }
      for (const answer of [
        () => jsonResponse(400, echo),
        () => {
          throw new Error(`refused ${SECRET}`)
        },
      ]) {
        const outcome = await send(config, answer).result
        expect(outcome.ok).toBe(false)
        expect(JSON.stringify(outcome)).not.toContain(SECRET)
        expect(JSON.stringify(outcome)).toContain('[redacted]')
      }
    })
  })
}
