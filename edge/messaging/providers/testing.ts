import type { OutgoingEmail } from '../../../contracts/messaging'

/** A rendered message as the send consumer hands it over. */
export function outgoingEmail(messageId = 'msg_1'): OutgoingEmail {
  return {
    messageId,
    idempotencyKey: `idem-${messageId}`,
    from: 'Cairn Shop <news@shop.example>',
    replyTo: 'help@shop.example',
    to: 'ann@example.com',
    subject: 'Your order',
    html: '<p>Thanks, Ann</p>',
    text: 'Thanks, Ann',
    headers: {
      'List-Unsubscribe': '<https://cairn.example/u/tok>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  }
}

/**
 * The network edge: records every request a provider client makes and answers as told, so a
 * test sees the request the provider would receive.
 */
export function fakeFetch(answer: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = []
  // As strict as the runtime's fetch, which refuses to be called as another object's method
  // ("Illegal invocation"): a client calling `deps.fetch(…)` failed every real send.
  const fetch = async function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
    if (this !== undefined && this !== globalThis) {
      throw new TypeError('Illegal invocation: function called with incorrect `this` reference')
    }
    const request = new Request(input, init)
    requests.push(request.clone())
    return answer(request)
  } as typeof globalThis.fetch
  return { fetch, requests }
}

/** A provider that never answers and ignores the abort signal. */
export const hang = () => new Promise<Response>(() => {})

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })
}
