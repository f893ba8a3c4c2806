import { loadDomainBundle } from './domain.ts'
import { benchContact, TEMPLATE } from './messaging-load.ts'

/**
 * The messaging section's baseline: the send consumer's renderer (edge/messaging/render.ts,
 * liquidjs and html-to-text, their browser builds as in the Worker's bundle) rendering the
 * section's template for the same contacts in this Node process, with nothing else: what a
 * message costs when all that is done is rendering it.
 */
type Renderer = Pick<typeof import('../edge/messaging/render.ts'), 'renderEmail'>

export interface RenderBaseline {
  renders: number
  /** This process's CPU per render (ms), and wall time per render. */
  cpuMs: number
  wallMs: number
  /** Characters of the first render's HTML and text, to show the template's size. */
  htmlChars: number
  textChars: number
}

const WARM_UP_RENDERS = 200

export async function measureRenderBaseline(renders: number): Promise<RenderBaseline> {
  const { renderEmail } = await loadDomainBundle<Renderer>(
    'messaging-render',
    { entryPoints: ['edge/messaging/render.ts'] },
    { platform: 'browser' },
  )
  const template = { subject: TEMPLATE.subject, html: TEMPLATE.html, text: null, layout: null }
  const render = (i: number) => {
    const contact = benchContact(i)
    return renderEmail(
      template,
      {},
      {
        contact: {
          key: contact.userId,
          traits: { email: contact.email, firstName: contact.firstName },
        },
        event: null,
        account: null,
        data: contact.data,
      },
    )
  }
  const sample = render(0)
  for (let i = 0; i < WARM_UP_RENDERS; i++) render(i)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  for (let i = 0; i < renders; i++) render(i)
  const wall = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  return {
    renders,
    cpuMs: (cpu.user + cpu.system) / 1000 / renders,
    wallMs: wall / renders,
    htmlChars: sample.html.length,
    textChars: sample.text.length,
  }
}
