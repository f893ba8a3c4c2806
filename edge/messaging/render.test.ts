import { describe, expect, it } from 'vitest'
import {
  checkSnippet,
  checkTemplate,
  renderEmail,
  TemplateError,
  type EmailTemplate,
  type RenderScope,
} from './render'

const scope: RenderScope = {
  contact: { key: 'user-1', traits: { name: 'Ada', plan: 'pro' } },
  event: { event: 'Order Completed', properties: { total: 42 } },
  account: { name: 'Acme' },
  data: { coupon: 'SAVE10' },
}

function template(parts: Partial<EmailTemplate>): EmailTemplate {
  return { subject: 'Hi', html: '<p>Hi</p>', text: null, layout: null, ...parts }
}

function failure(run: () => unknown): TemplateError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError)
    return error as TemplateError
  }
  throw new Error('expected a TemplateError')
}

describe('renderEmail', () => {
  it('reads the contact, the event, the account and the data', () => {
    const email = renderEmail(
      template({
        subject: '{{ contact.traits.name }}, your {{ event.event }}',
        html: '<p>{{ contact.key }} at {{ account.name }}: {{ event.properties.total }} with {{ data.coupon }}</p>',
        text: '{{ contact.traits.plan }} / {{ data.coupon }}',
      }),
      {},
      scope,
    )
    expect(email).toEqual({
      subject: 'Ada, your Order Completed',
      html: '<p>user-1 at Acme: 42 with SAVE10</p>',
      text: 'pro / SAVE10',
    })
  })

  it('escapes a hostile trait in the HTML, not in the subject or the text part', () => {
    const hostile = {
      ...scope,
      contact: { key: 'user-2', traits: { name: '<script>alert("x")</script>' } },
    }
    const email = renderEmail(
      template({
        subject: 'For {{ contact.traits.name }}',
        html: '<p>{{ contact.traits.name }}</p>{{ "<b>trusted</b>" | raw }}',
        text: 'Hello {{ contact.traits.name }}',
      }),
      {},
      hostile,
    )
    expect(email.html).toBe('<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</p><b>trusted</b>')
    expect(email.subject).toBe('For <script>alert("x")</script>')
    expect(email.text).toBe('Hello <script>alert("x")</script>')
  })

  it('wraps the HTML in a layout snippet, with partials escaped alike', () => {
    const snippets = {
      base: '<html><head><title>{% block title %}Cairn{% endblock %}</title></head><body>{% block %}{% endblock %}{% render "footer", name: contact.traits.name %}</body></html>',
      footer: '<footer>Sent to {{ name }}</footer>',
    }
    const hostile = { ...scope, contact: { key: 'u', traits: { name: 'A&B' } } }
    const byField = renderEmail(
      template({ html: '{% block title %}Offer{% endblock %}<h1>Hello</h1>', layout: 'base' }),
      snippets,
      hostile,
    )
    expect(byField.html).toBe(
      '<html><head><title>Offer</title></head><body><h1>Hello</h1><footer>Sent to A&amp;B</footer></body></html>',
    )
    const byTag = renderEmail(
      template({ html: "{% layout 'base' %}<h1>Hello</h1>" }),
      snippets,
      hostile,
    )
    expect(byTag.html).toBe(
      '<html><head><title>Cairn</title></head><body><h1>Hello</h1><footer>Sent to A&amp;B</footer></body></html>',
    )
  })

  it('makes the text part from the HTML when there is none, keeping links', () => {
    const email = renderEmail(
      template({
        html: '<html><head><style>p { color: red }</style></head><body><h1>Sale</h1><p>Hello {{ contact.traits.name }}, see <a href="https://shop.example/sale?c={{ data.coupon }}">the sale</a>.</p><img src="https://shop.example/pixel.gif" alt=""></body></html>',
      }),
      {},
      scope,
    )
    expect(email.text).toBe('SALE\n\nHello Ada, see the sale [https://shop.example/sale?c=SAVE10].')
  })

  it('reports an unknown filter and an unclosed tag with their part, line and column', () => {
    const unknown = failure(() =>
      renderEmail(
        template({ html: '<p>\n<b>\n  {{ contact.traits.name | shout }}</b>' }),
        {},
        scope,
      ),
    )
    expect(unknown).toMatchObject({ part: 'html', line: 3, column: 3 })
    expect(unknown.message).toBe('html line 3, column 3: unknown filter "shout"')

    const unclosed = failure(() =>
      renderEmail(template({ text: 'Hello\n{% if contact.traits.name %}\nthere' }), {}, scope),
    )
    expect(unclosed).toMatchObject({ part: 'text', line: 2, column: 1 })
    expect(unclosed.message).toBe(
      'text line 2, column 1: tag {% if contact.traits.name %} not closed',
    )
  })

  it('keeps the author’s line 1 columns when a layout is named, and names a failing snippet', () => {
    const snippets = { base: '{% block %}{% endblock %}', footer: '<p>\n{{ "x" | nope }}</p>' }
    const first = failure(() =>
      renderEmail(template({ html: 'ab {{ x | shout }}', layout: 'base' }), snippets, scope),
    )
    expect(first.message).toBe('html line 1, column 4: unknown filter "shout"')
    const inSnippet = failure(() =>
      renderEmail(template({ html: '{% render "footer" %}' }), snippets, scope),
    )
    expect(inSnippet).toMatchObject({ part: 'html', snippet: 'footer', line: 2, column: 1 })
    expect(inSnippet.message).toBe(
      'html, snippet "footer", line 2, column 1: unknown filter "nope"',
    )
    const layout = failure(() => renderEmail(template({ layout: 'missing' }), snippets, scope))
    expect(layout.message).toBe('html: unknown layout snippet "missing"')
  })

  it('takes the line breaks out of a subject', () => {
    const email = renderEmail(
      template({ subject: 'Hello {{ contact.traits.name }}\r\nBcc: victim@example.com' }),
      {},
      { ...scope, contact: { key: 'u', traits: { name: 'Ada\nX-Injected: 1' } } },
    )
    expect(email.subject).toBe('Hello Ada X-Injected: 1 Bcc: victim@example.com')
    expect(email.subject).not.toMatch(/[\r\n]/)
  })

  it('stops a render that loops too long or snippets that render each other', () => {
    const list = Array.from({ length: 1000 }, (_, i) => i)
    const loop = failure(() =>
      renderEmail(
        template({
          html: '{% for a in data.list %}{% for b in data.list %}.{% endfor %}{% endfor %}',
        }),
        {},
        { ...scope, data: { list } },
      ),
    )
    expect(loop.message).toMatch(/^html line 1, column \d+: rendering took more than 100000 steps/)
    // Named by a variable, so no save refused them.
    const mutual = failure(() =>
      renderEmail(
        template({ html: '{% include data.first %}' }),
        { a: '{% include data.second %}', b: '{% include data.first %}' },
        { ...scope, data: { first: 'a', second: 'b' } },
      ),
    )
    expect(mutual.reason).toBe('snippets rendering each other nest too deeply')
  })

  it('reads only own properties of what it is given', () => {
    const email = renderEmail(
      template({ html: '[{{ contact.traits.constructor }}][{{ data.toString }}]' }),
      {},
      scope,
    )
    expect(email.html).toBe('[][]')
  })
})

describe('checkTemplate and checkSnippet', () => {
  it('parse every part and name the snippets used, refusing unknown ones by line', () => {
    const snippets = { base: '{% block %}{% endblock %}', footer: 'F' }
    const named = checkTemplate(
      template({ html: '<p>\n{% if x %}{% render "footer" %}{% endif %}</p>', layout: 'base' }),
      snippets,
    )
    expect([...named].sort()).toEqual(['base', 'footer'])
    const unknown = failure(() =>
      checkTemplate(template({ text: 'a\nb {% include "nope" %}' }), snippets),
    )
    expect(unknown.message).toBe('text line 2, column 3: unknown snippet "nope"')
    const subject = failure(() => checkTemplate(template({ subject: '{{ a | shout }}' }), snippets))
    expect(subject).toMatchObject({ part: 'subject', line: 1, column: 1 })
    const both = failure(() =>
      checkTemplate(template({ html: "x {% layout 'base' %}", layout: 'base' }), snippets),
    )
    expect(both.message).toBe(
      'html line 1, column 3: uses {% layout %} and names layout "base" too; keep one',
    )
  })

  it('refuses a snippet that does not parse, names a missing one, or leads back to itself', () => {
    const snippets = { a: '{% render "b" %}', b: 'B' }
    expect([...checkSnippet('c', '{% render "a" %}', snippets)]).toEqual(['a'])
    expect(failure(() => checkSnippet('c', 'x\n{{ y | shout }}', snippets)).message).toBe(
      'snippet line 2, column 1: unknown filter "shout"',
    )
    expect(failure(() => checkSnippet('c', '{% render "zz" %}', snippets)).message).toBe(
      'snippet line 1, column 1: unknown snippet "zz"',
    )
    expect(failure(() => checkSnippet('b', '{% render "a" %}', snippets)).message).toBe(
      'snippet line 1, column 1: renders itself through "a"',
    )
    expect(failure(() => checkSnippet('c', '{% render "c" %}', snippets)).message).toBe(
      'snippet line 1, column 1: renders itself',
    )
  })
})
