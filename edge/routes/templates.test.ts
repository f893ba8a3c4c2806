import { env } from 'cloudflare:test'
import { beforeAll, describe, expect, it } from 'vitest'
import { api, createSource, errorOf, eventually, send, uid } from '../../test/support/api'
import { loadTemplateForSend } from '../messaging/templates'

interface Template {
  id: string
  name: string
  subject: string
  html: string
  text: string | null
  kind: string
  group: string | null
  layout: string | null
  createdAt: string
  updatedAt: string
}

async function createTemplate(body: Record<string, unknown>) {
  const response = await api('/api/templates', { method: 'POST', json: body })
  expect(response.status, await response.clone().text()).toBe(201)
  return (await response.json()) as Template
}

function putSnippet(name: string, body: string) {
  return api(`/api/snippets/${name}`, { method: 'PUT', json: { body } })
}

function preview(id: string, body: Record<string, unknown>) {
  return api(`/api/templates/${id}/preview`, { method: 'POST', json: body })
}

function previewDraft(body: Record<string, unknown>) {
  return api('/api/templates/preview', { method: 'POST', json: body })
}

const run = uid('tpl').toLowerCase()
const hostile = `${run}-hostile`

beforeAll(async () => {
  const { writeKey } = await createSource({ name: 'Templates' })
  const identified = await send('/v1/identify', writeKey, {
    userId: hostile,
    traits: { name: '<script>alert(1)</script>', email: `${run}@example.com` },
  })
  expect(identified.status).toBe(200)
  const grouped = await send('/v1/group', writeKey, {
    userId: hostile,
    groupId: `${run}-acme`,
    traits: { name: 'Acme & Co' },
  })
  expect(grouped.status).toBe(200)
  await eventually(async () => {
    const response = await api(`/api/contacts/${hostile}`)
    const contact = (await response.json()) as { groups?: unknown[] }
    return response.status === 200 && contact.groups?.length === 1
  }, 20_000)
}, 30_000)

describe('templates', () => {
  it('are created with the slug of their name as id, listed, read, changed and deleted', async () => {
    const created = await createTemplate({
      name: `Welcome Émile ${run}!`,
      subject: 'Welcome {{ contact.traits.name }}',
      html: '<p>Hello</p>',
    })
    expect(created).toEqual({
      id: `welcome-emile-${run}`,
      name: `Welcome Émile ${run}!`,
      subject: 'Welcome {{ contact.traits.name }}',
      html: '<p>Hello</p>',
      text: null,
      kind: 'marketing',
      group: null,
      layout: null,
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    })
    const taken = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `welcome émile ${run}`, subject: 's', html: 'h' },
      }),
      409,
      'template_exists',
    )
    expect(taken.message).toBe(`There is already a template ${created.id}`)

    const listed = (await (await api('/api/templates?limit=1000')).json()) as {
      items: Template[]
      cursor: string | null
    }
    expect(listed.items.find((t) => t.id === created.id)).toEqual(created)
    expect(listed.cursor).toBeNull()
    expect(await (await api(`/api/templates/${created.id}`)).json()).toEqual(created)

    const changed = await api(`/api/templates/${created.id}`, {
      method: 'PUT',
      json: { subject: 'Hi {{ contact.traits.name }}', text: 'Hello', kind: 'transactional' },
    })
    expect(changed.status).toBe(200)
    const after = (await changed.json()) as Template
    expect(after).toMatchObject({
      id: created.id,
      subject: 'Hi {{ contact.traits.name }}',
      text: 'Hello',
      kind: 'transactional',
      html: '<p>Hello</p>',
    })
    expect(after.updatedAt >= created.updatedAt).toBe(true)
    expect(await (await api(`/api/templates/${created.id}`)).json()).toEqual(after)

    const deleted = await api(`/api/templates/${created.id}`, { method: 'DELETE' })
    expect(await deleted.json()).toEqual(after)
    await errorOf(await api(`/api/templates/${created.id}`), 404, 'not_found')
    await errorOf(await api(`/api/templates/${created.id}`, { method: 'DELETE' }), 404, 'not_found')
    await errorOf(
      await api(`/api/templates/${created.id}`, { method: 'PUT', json: { subject: 'x' } }),
      404,
      'not_found',
    )
  })

  it('pages the list with a cursor', async () => {
    for (const n of [1, 2, 3])
      await createTemplate({ name: `${run} page ${n}`, subject: 's', html: 'h' })
    const first = (await (await api('/api/templates?limit=2')).json()) as {
      items: Template[]
      cursor: string
    }
    expect(first.items).toHaveLength(2)
    const second = (await (await api(`/api/templates?limit=2&cursor=${first.cursor}`)).json()) as {
      items: Template[]
    }
    expect(second.items[0]!.id).not.toBe(first.items[1]!.id)
    expect(second.items[0]!.createdAt <= first.items[1]!.createdAt).toBe(true)
  })

  it('refuses a part that does not parse, naming the part and the line', async () => {
    const filter = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: {
          name: `${run} broken`,
          subject: 'ok',
          html: '<p>\n<b>\n{{ contact.traits.name | shout }}',
        },
      }),
      400,
      'template_invalid',
    )
    expect(filter.message).toBe('html line 3, column 1: unknown filter "shout"')
    expect(filter.details).toEqual({ part: 'html', line: 3, column: 1 })

    const unclosed = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `${run} broken`, subject: 'ok', html: 'ok', text: 'a\n\n{% for x in y %}' },
      }),
      400,
      'template_invalid',
    )
    expect(unclosed.details).toEqual({ part: 'text', line: 3, column: 1 })
    expect(unclosed.message).toMatch(/^text line 3, column 1: tag \{% for x in y %\} not closed/)

    const created = await createTemplate({ name: `${run} fine`, subject: 's', html: 'h' })
    const edit = await errorOf(
      await api(`/api/templates/${created.id}`, { method: 'PUT', json: { subject: '{{ a' } }),
      400,
      'template_invalid',
    )
    expect(edit.details).toMatchObject({ part: 'subject', line: 1 })
  })

  it('refuses an unknown layout, snippet or group by name', async () => {
    const layout = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `${run} x`, subject: 's', html: 'h', layout: 'no-such-layout' },
      }),
      400,
      'unknown_snippet',
    )
    expect(layout.message).toBe('No snippet no-such-layout to use as layout')
    const partial = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `${run} x`, subject: 's', html: 'x\n{% render "no-such" %}' },
      }),
      400,
      'template_invalid',
    )
    expect(partial.message).toBe('html line 2, column 1: unknown snippet "no-such"')
    const group = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `${run} x`, subject: 's', html: 'h', group: 'no-such-group' },
      }),
      400,
      'unknown_group',
    )
    expect(group.message).toBe('No subscription group no-such-group')
    const strict = await errorOf(
      await api('/api/templates', {
        method: 'POST',
        json: { name: `${run} x`, subject: 's', html: 'h', txt: 'typo' },
      }),
      400,
      'invalid_request',
    )
    expect(strict.message).toMatch(/txt/)
  })

  it('previews a real contact with a hostile trait escaped in the HTML', async () => {
    const template = await createTemplate({
      name: `${run} preview`,
      subject: 'For {{ contact.traits.name }} ({{ data.reason }})',
      html: '<p>{{ contact.traits.name }} at {{ account.name }}: {{ event.properties.item }}</p>',
    })
    const response = await preview(template.id, {
      contactId: hostile,
      data: { reason: 'test' },
      event: { event: 'Viewed', properties: { item: '<b>hat</b>' } },
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({
      subject: 'For <script>alert(1)</script> (test)',
      html: '<p>&lt;script&gt;alert(1)&lt;/script&gt; at Acme &amp; Co: &lt;b&gt;hat&lt;/b&gt;</p>',
      text: '<script>alert(1)</script> at Acme & Co: <b>hat</b>',
    })
    await errorOf(await preview(template.id, { contactId: `${run}-nobody` }), 404, 'not_found')
    await errorOf(await preview(`${run}-missing`, { contactId: hostile }), 404, 'not_found')
    await errorOf(await preview(template.id, {}), 400, 'invalid_request')
  })

  it("previews a draft's unsaved parts, stored or not yet, naming a Liquid error's line", async () => {
    const template = await createTemplate({
      name: `${run} draft`,
      subject: 'Stored subject',
      html: '<p>stored</p>',
    })
    const draft = {
      subject: 'Hi {{ contact.traits.name }}',
      html: '<p>{{ contact.traits.email }}</p>',
    }
    const rendered = {
      subject: 'Hi <script>alert(1)</script>',
      html: `<p>${run}@example.com</p>`,
      text: `${run}@example.com`,
    }
    const stored = await preview(template.id, { contactId: hostile, draft })
    expect(stored.status, await stored.clone().text()).toBe(200)
    expect(await stored.json()).toEqual(rendered)
    // The draft was only rendered: the template keeps its saved parts.
    const kept = (await (await api(`/api/templates/${template.id}`)).json()) as Template
    expect(kept.subject).toBe('Stored subject')

    const unsaved = await previewDraft({ contactId: hostile, draft })
    expect(unsaved.status, await unsaved.clone().text()).toBe(200)
    expect(await unsaved.json()).toEqual(rendered)
    const withText = await previewDraft({
      contactId: hostile,
      draft: { ...draft, text: 'Plain {{ contact.key }}' },
    })
    expect(((await withText.json()) as { text: string }).text).toBe(`Plain ${hostile}`)

    const broken = await errorOf(
      await previewDraft({
        contactId: hostile,
        draft: { subject: 'ok', html: '<p>fine</p>\n<p>{{ contact.traits.name </p>' },
      }),
      400,
      'template_invalid',
    )
    expect(broken.details).toMatchObject({ part: 'html', line: 2 })
    await errorOf(await previewDraft({ contactId: hostile }), 400, 'invalid_request')
    await errorOf(await previewDraft({ contactId: `${run}-nobody`, draft }), 404, 'not_found')
  })

  it('audits a preview with the contact as its subject', async () => {
    const template = await createTemplate({ name: `${run} audited`, subject: 's', html: 'h' })
    expect((await preview(template.id, { contactId: hostile })).status).toBe(200)
    const row = await env.DB.prepare(
      "SELECT detail, subject_hash FROM audit_log WHERE action = 'POST /api/templates/{id}/preview' ORDER BY seq DESC LIMIT 1",
    ).first<{ detail: string; subject_hash: string | null }>()
    expect(JSON.parse(row!.detail)).toEqual({ template: template.id })
    expect(row!.subject_hash).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('snippets', () => {
  it('are layouts and partials; one in use is not deleted, naming who uses it', async () => {
    const footer = `${run}-footer`
    const base = `${run}-base`
    expect((await putSnippet(footer, '<footer>{{ name }}</footer>')).status).toBe(200)
    const saved = await putSnippet(
      base,
      `<main>{% block %}{% endblock %}</main>{% render '${footer}', name: account.name %}`,
    )
    expect(await saved.json()).toEqual({
      name: base,
      body: `<main>{% block %}{% endblock %}</main>{% render '${footer}', name: account.name %}`,
      updatedAt: expect.any(String),
    })
    const template = await createTemplate({
      name: `${run} with layout`,
      subject: 'Hi',
      html: '<h1>{{ contact.traits.name }}</h1>',
      layout: base,
    })
    const rendered = (await (await preview(template.id, { contactId: hostile })).json()) as {
      html: string
    }
    expect(rendered.html).toBe(
      '<main><h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1></main><footer>Acme &amp; Co</footer>',
    )

    // A draft keeps the stored layout unless it names one, or none (null).
    const draft = { subject: 'Hi', html: '<b>draft</b>' }
    const wrapped = (await (await preview(template.id, { contactId: hostile, draft })).json()) as {
      html: string
    }
    expect(wrapped.html).toBe('<main><b>draft</b></main><footer>Acme &amp; Co</footer>')
    const bare = (await (
      await preview(template.id, { contactId: hostile, draft: { ...draft, layout: null } })
    ).json()) as { html: string }
    expect(bare.html).toBe('<b>draft</b>')
    const unsaved = (await (
      await previewDraft({ contactId: hostile, draft: { ...draft, layout: base } })
    ).json()) as { html: string }
    expect(unsaved.html).toBe(wrapped.html)

    const listed = (await (await api('/api/snippets')).json()) as { items: { name: string }[] }
    expect(listed.items.map((s) => s.name)).toEqual(expect.arrayContaining([base, footer]))

    const layoutInUse = await errorOf(
      await api(`/api/snippets/${base}`, { method: 'DELETE' }),
      409,
      'snippet_in_use',
    )
    expect(layoutInUse.details).toEqual({ templates: [template.id], snippets: [] })
    expect(layoutInUse.message).toBe(
      `Snippet ${base} is used by template ${template.id}; change those first`,
    )
    const partialInUse = await errorOf(
      await api(`/api/snippets/${footer}`, { method: 'DELETE' }),
      409,
      'snippet_in_use',
    )
    expect(partialInUse.details).toEqual({ templates: [], snippets: [base] })

    expect((await api(`/api/templates/${template.id}`, { method: 'DELETE' })).status).toBe(200)
    const deleted = await api(`/api/snippets/${base}`, { method: 'DELETE' })
    expect(await deleted.json()).toEqual({ name: base, deleted: true })
    await errorOf(await api(`/api/snippets/${base}`, { method: 'DELETE' }), 404, 'not_found')
  })

  it('are parsed when saved, and may not lead back to themselves', async () => {
    const broken = await errorOf(
      await putSnippet(`${run}-broken`, '<p>\n{% if x %}'),
      400,
      'template_invalid',
    )
    expect(broken.message).toBe('snippet line 2, column 1: tag {% if x %} not closed')
    expect(broken.details).toEqual({
      part: 'snippet',
      line: 2,
      column: 1,
      snippet: `${run}-broken`,
    })
    const a = `${run}-a`
    const b = `${run}-b`
    expect((await putSnippet(b, 'B')).status).toBe(200)
    expect((await putSnippet(a, `{% render '${b}' %}`)).status).toBe(200)
    const cycle = await errorOf(await putSnippet(b, `{% render '${a}' %}`), 400, 'template_invalid')
    expect(cycle.message).toBe(`snippet line 1, column 1: renders itself through "${a}"`)
    await errorOf(await putSnippet('Not A Slug', 'x'), 400, 'invalid_request')
  })
})

describe('subscription groups', () => {
  it('list all marketing first, and are created opt-in unless said otherwise', async () => {
    const name = `Product news ${run}`
    const response = await api('/api/subscription-groups', { method: 'POST', json: { name } })
    expect(response.status).toBe(201)
    const group = await response.json()
    expect(group).toEqual({
      id: `product-news-${run}`,
      name,
      defaultSubscribed: false,
      createdAt: expect.any(String),
    })
    const optOut = await api('/api/subscription-groups', {
      method: 'POST',
      json: { id: `${run}-tips`, name: 'Tips', defaultSubscribed: true },
    })
    expect(await optOut.json()).toMatchObject({ id: `${run}-tips`, defaultSubscribed: true })

    const listed = (await (await api('/api/subscription-groups')).json()) as {
      items: { id: string }[]
    }
    expect(listed.items[0]).toEqual({
      id: 'marketing',
      name: 'All marketing',
      defaultSubscribed: true,
      createdAt: null,
    })
    expect(listed.items).toContainEqual(group)

    await errorOf(
      await api('/api/subscription-groups', { method: 'POST', json: { name } }),
      409,
      'group_exists',
    )
    await errorOf(
      await api('/api/subscription-groups', {
        method: 'POST',
        json: { id: 'marketing', name: 'Mine' },
      }),
      409,
      'group_exists',
    )
    const template = await createTemplate({
      name: `${run} news`,
      subject: 's',
      html: 'h',
      group: `product-news-${run}`,
    })
    expect(template.group).toBe(`product-news-${run}`)
  })
})

describe('permissions', () => {
  it('let analysts read and preview but not change templates, snippets or groups', async () => {
    const created = await api('/api/keys', {
      method: 'POST',
      json: { name: uid('analyst'), role: 'analyst' },
    })
    const { key } = (await created.json()) as { key: string }
    const template = await createTemplate({ name: `${run} analyst`, subject: 's', html: 'h' })
    expect((await api('/api/templates', { key })).status).toBe(200)
    expect((await api(`/api/templates/${template.id}`, { key })).status).toBe(200)
    expect((await api('/api/snippets', { key })).status).toBe(200)
    expect((await api('/api/subscription-groups', { key })).status).toBe(200)
    const previewed = await api(`/api/templates/${template.id}/preview`, {
      method: 'POST',
      json: { contactId: hostile },
      key,
    })
    expect(previewed.status).toBe(200)
    for (const [path, method] of [
      ['/api/templates', 'POST'],
      [`/api/templates/${template.id}`, 'PUT'],
      [`/api/templates/${template.id}`, 'DELETE'],
      ['/api/snippets/x', 'PUT'],
      ['/api/snippets/x', 'DELETE'],
      ['/api/subscription-groups', 'POST'],
    ] as const) {
      await errorOf(await api(path, { method, json: {}, key }), 403, 'forbidden')
    }
  })
})

describe('loadTemplateForSend', () => {
  it('never serves a template or snippet older than the last change', async () => {
    const partial = `${run}-sig`
    expect((await putSnippet(partial, 'v1')).status).toBe(200)
    const template = await createTemplate({
      name: `${run} cached`,
      subject: 'first',
      html: `{% render '${partial}' %}`,
    })
    const first = await loadTemplateForSend(env.DB, template.id)
    expect(first?.template.subject).toBe('first')
    expect(first?.snippets[partial]).toBe('v1')
    expect((await loadTemplateForSend(env.DB, template.id))?.template.subject).toBe('first')

    await api(`/api/templates/${template.id}`, { method: 'PUT', json: { subject: 'second' } })
    expect((await loadTemplateForSend(env.DB, template.id))?.template.subject).toBe('second')
    expect((await putSnippet(partial, 'v2')).status).toBe(200)
    expect((await loadTemplateForSend(env.DB, template.id))?.snippets[partial]).toBe('v2')

    await api(`/api/templates/${template.id}`, { method: 'DELETE' })
    expect(await loadTemplateForSend(env.DB, template.id)).toBeNull()
  })
})
