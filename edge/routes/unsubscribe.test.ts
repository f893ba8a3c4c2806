import { env, SELF } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, BASE, createSource, errorOf, eventually, send, uid } from '../../test/support/api'
import { contactStub } from '../../durable/contact-client'
import {
  readUnsubscribeToken,
  unsubscribeHeaders,
  unsubscribeToken,
  type UnsubscribeParts,
} from '../messaging/unsubscribe'

const run = uid('unsub').toLowerCase()
const person = `${run}-ann`
const groups = {
  news: `${run}-news`,
  tips: `${run}-tips`,
  hostile: `${run}-hostile`,
}

function parts(groupId: string, contactKey = person): UnsubscribeParts {
  return { contactKey, groupId, messageId: `msg_${run}` }
}

async function createGroup(id: string, name: string, defaultSubscribed: boolean) {
  const response = await api('/api/subscription-groups', {
    method: 'POST',
    json: { id, name, defaultSubscribed },
  })
  expect(response.status).toBe(201)
}

function visit(path: string, init: RequestInit = {}) {
  return SELF.fetch(`${BASE}${path}`, init)
}

function postForm(path: string, form: string, accept = 'text/html') {
  return visit(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: accept },
    body: form,
  })
}

/** Each group's checkbox on the page: checked or not. */
function boxes(page: string): Record<string, boolean> {
  const found: Record<string, boolean> = {}
  for (const match of page.matchAll(
    /<input\s+type="checkbox"\s+name="group\.([^"]+)"\s*(checked)?/g,
  )) {
    found[match[1]!] = match[2] === 'checked'
  }
  return found
}

async function preferences() {
  return contactStub(env, person).messagingPreferences(person)
}

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Unsubscribe' })
  const response = await send('/v1/identify', writeKey, {
    userId: person,
    traits: { email: `${run}@example.com` },
  })
  expect(response.status).toBe(200)
  await eventually(async () => (await preferences()).found, 20_000)
  await createGroup(groups.news, 'Newsletter', true)
  await createGroup(groups.tips, 'Tips', false)
  await createGroup(groups.hostile, '<img src=x onerror=alert(1)>', false)
}, 30_000)

describe('unsubscribe tokens', () => {
  it('read back what they were made of, and nothing tampered with', async () => {
    const original = { contactKey: 'anon:dévice/7 "x"', groupId: 'marketing', messageId: 'msg_1' }
    const token = await unsubscribeToken(env, original)
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
    expect(await readUnsubscribeToken(env, token)).toEqual(original)

    const [payload, mac] = token.split('.') as [string, string]
    const flip = (text: string, at: number) =>
      text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    const otherGroup = await unsubscribeToken(env, { ...original, groupId: 'other' })
    for (const forged of [
      `${flip(payload, 3)}.${mac}`,
      `${payload}.${flip(mac, 5)}`,
      `${otherGroup.split('.')[0]}.${mac}`,
      `${payload}.${mac}.x`,
      payload,
      '',
      'not a token',
    ]) {
      expect(await readUnsubscribeToken(env, forged), forged).toBeNull()
    }
    const elsewhere = { ...env, CAIRN_HASH_KEY: 'another deployment' }
    expect(await readUnsubscribeToken(elsewhere, token)).toBeNull()
  })

  it('go in the one-click headers, under the public URL', async () => {
    const local = await unsubscribeHeaders({ ...env, CAIRN_PUBLIC_URL: undefined }, parts('x'))
    expect(local['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click')
    const token = local['List-Unsubscribe'].match(/^<http:\/\/localhost:8787\/u\/([^>]+)>$/)![1]!
    expect(await readUnsubscribeToken(env, token)).toEqual(parts('x'))
    const deployed = await unsubscribeHeaders(
      { ...env, CAIRN_PUBLIC_URL: 'https://mail.example.com/' },
      parts('x'),
    )
    expect(deployed['List-Unsubscribe']).toBe(`<https://mail.example.com/u/${token}>`)
  })
})

describe('POST /u/:token', () => {
  it('unsubscribes the contact from the email’s group in one click', async () => {
    const token = await unsubscribeToken(env, parts(groups.news))
    const response = await postForm(`/u/${token}`, 'List-Unsubscribe=One-Click', '*/*')
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Type')).toMatch(/^text\/plain/)
    expect(await response.text()).toBe('You are unsubscribed.')
    expect((await preferences()).subscriptions[groups.news]).toBe(false)

    const events = (await (await api(`/api/contacts/${person}/events`)).json()) as {
      items: { event?: string; properties?: Record<string, unknown> }[]
    }
    expect(events.items).toContainEqual(
      expect.objectContaining({
        event: 'Unsubscribed',
        properties: expect.objectContaining({ groupId: groups.news, source: 'unsubscribe_link' }),
      }),
    )
    // Whatever the body, and a person's browser gets a page.
    const again = await visit(`/u/${token}`, { method: 'POST', headers: { Accept: 'text/html' } })
    expect(again.status).toBe(200)
    expect(await again.text()).toContain('You will get no more email from “Newsletter”.')
  })

  it('answers an invalid token with the error shape, or a page to a browser', async () => {
    await errorOf(await visit('/u/nope', { method: 'POST' }), 400, 'invalid_token')
    const forged = await unsubscribeToken(
      { ...env, CAIRN_HASH_KEY: 'elsewhere' },
      parts(groups.news),
    )
    await errorOf(
      await postForm(`/u/${forged}`, 'List-Unsubscribe=One-Click', '*/*'),
      400,
      'invalid_token',
    )
    await errorOf(await postForm(`/u/nope/preferences`, 'action=save', '*/*'), 400, 'invalid_token')
    await errorOf(await visit(`/u/${'a'.repeat(3000)}`), 400, 'invalid_token')
    const page = await visit('/u/nope', { headers: { Accept: 'text/html' } })
    expect(page.status).toBe(400)
    expect(page.headers.get('Content-Type')).toMatch(/^text\/html/)
    expect(await page.text()).toContain('This unsubscribe link is not valid')
  })
})

describe('the preference page', () => {
  it('lists every group with the contact’s state, escaping what it shows', async () => {
    await contactStub(env, person).setSubscription(person, groups.tips, true, 'api')
    const token = await unsubscribeToken(env, parts(groups.tips))
    const response = await visit(`/u/${token}`, { headers: { Accept: 'text/html' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('Content-Security-Policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    expect(response.headers.get('Referrer-Policy')).toBe('no-referrer')
    const page = await response.text()
    expect(page).not.toContain('<script')
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(page).not.toContain('<img')
    expect(page).toContain(`action="/u/${token}/preferences"`)
    expect(boxes(page)).toMatchObject({
      marketing: true,
      [groups.news]: false,
      [groups.tips]: true,
      [groups.hostile]: false,
    })
  })

  it('saves the boxes ticked, and leaves all marketing on request', async () => {
    const token = await unsubscribeToken(env, parts(groups.tips))
    const form = new URLSearchParams([
      ['group.marketing', 'on'],
      [`group.${groups.news}`, 'on'],
      ['action', 'save'],
    ])
    const saved = await postForm(`/u/${token}/preferences`, form.toString())
    expect(saved.status).toBe(200)
    const page = await saved.text()
    expect(page).toContain('Your choices are saved.')
    expect(boxes(page)).toMatchObject({
      marketing: true,
      [groups.news]: true,
      [groups.tips]: false,
      [groups.hostile]: false,
    })
    expect((await preferences()).subscriptions).toMatchObject({
      [groups.news]: true,
      [groups.tips]: false,
    })
    // Groups left as they were are not chosen anew.
    expect((await preferences()).subscriptions).not.toHaveProperty(groups.hostile)

    const all = await postForm(
      `/u/${token}/preferences`,
      `group.${groups.news}=on&action=unsubscribe-all`,
    )
    expect(all.status).toBe(200)
    expect(boxes(await all.text())).toMatchObject({ marketing: false, [groups.news]: true })
    expect((await preferences()).subscriptions.marketing).toBe(false)
  })

  it('says there is nothing to change for a contact that does not exist', async () => {
    const token = await unsubscribeToken(env, parts(groups.news, `${run}-nobody`))
    const page = await visit(`/u/${token}`, { headers: { Accept: 'text/html' } })
    expect(page.status).toBe(404)
    expect(await page.text()).toContain('We hold nothing for this link any more')
    const oneClick = await postForm(`/u/${token}`, 'List-Unsubscribe=One-Click', '*/*')
    expect(oneClick.status).toBe(200)
  })
})
