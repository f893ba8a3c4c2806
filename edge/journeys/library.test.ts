import { describe, expect, it } from 'vitest'
import { JourneyDefinitionSchema } from '../../contracts/journey'
import { RuleSchema } from '../../contracts/segment'
import { JOURNEY_TEMPLATES, type JourneyTemplate } from '../../domain/journeys/templates'
import { renderEmail } from '../messaging/render'
import { slugOf } from '../messaging/slug'

/**
 * The journey template library (domain/journeys/templates.ts) as the API installs it: each
 * definition and segment passes the API's schemas, each email template is where the templates
 * API would put it, and renders. Hand-worked runs of each template are in its domain test.
 */

const templates = Object.values(JOURNEY_TEMPLATES) as JourneyTemplate[]

describe('the journey template library, as the API installs it', () => {
  describe.each(templates.map((t) => [t.id, t] as const))('%s', (id, template) => {
    it('is a definition the API accepts', () => {
      const parsed = JourneyDefinitionSchema.safeParse(template.definition)
      expect(parsed.error?.issues ?? []).toEqual([])
      for (const segment of template.segments) {
        expect(RuleSchema.safeParse(segment.rule).error?.issues ?? []).toEqual([])
      }
    })

    it('names its email templates and segments after itself, each id the slug of its name', () => {
      for (const email of template.emailTemplates) {
        expect(email.id.startsWith(`${id}-`)).toBe(true)
        // The templates API makes a template's id from its name: another id would not exist.
        expect(slugOf(email.name)).toBe(email.id)
      }
      for (const segment of template.segments) expect(segment.id.startsWith(`${id}-`)).toBe(true)
    })

    it('renders every email, greeting by first name or without one', () => {
      for (const email of template.emailTemplates) {
        const parts = { subject: email.subject, html: email.html, text: email.text ?? null }
        const scope = (traits: Record<string, unknown>) => ({
          contact: { key: 'user:1', traits },
          event: { event: 'X', properties: {} },
          account: null,
          data: {},
        })
        const named = renderEmail({ ...parts, layout: null }, {}, scope({ firstName: 'Ada' }))
        const anonymous = renderEmail({ ...parts, layout: null }, {}, scope({}))
        expect(named.html).toContain('Hi Ada,')
        expect(anonymous.html).toContain('Hi there,')
        expect(anonymous.subject).not.toContain('{{')
      }
    })
  })

  it('renders the abandoned-cart reminder naming the product the cart event carries', () => {
    const template = JOURNEY_TEMPLATES['abandoned-cart'].emailTemplates[0]!
    const rendered = renderEmail(
      { ...template, text: null, layout: null },
      {},
      {
        contact: { key: 'user:1', traits: { firstName: 'Ada' } },
        event: {
          event: 'Product Added',
          properties: { name: 'Trail Shoes', price: 89, url: 'https://shop.example/cart' },
        },
        account: null,
        data: {},
      },
    )
    expect(rendered.subject).toBe('You left Trail Shoes in your cart')
    expect(rendered.html).toContain('Trail Shoes (89) is still in your cart.')
    expect(rendered.html).toContain('href="https://shop.example/cart"')
  })
})
