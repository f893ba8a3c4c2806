import { inPool, type DemoApi } from './seed-api.ts'

/** In the order they are saved: a snippet may render only snippets that exist. */
const DEMO_SNIPPETS = {
  footer: `<p style="color:#777;font-size:12px">Demo shop · 1 Example Street · you get this because you signed up</p>`,
  base: `<html><body style="font-family:sans-serif">{% block content %}{% endblock %}
{% render 'footer' %}</body></html>`,
}

const DEMO_TEMPLATES = [
  {
    name: 'welcome',
    kind: 'transactional',
    subject: 'Welcome to the demo shop, {{ contact.traits.name }}',
    html: `{% block content %}<h1>Welcome, {{ contact.traits.name }}!</h1>
<p>Your account is ready. Boots and jackets await.</p>{% endblock %}`,
    layout: 'base',
  },
  {
    name: 'autumn-sale',
    kind: 'marketing',
    group: 'product-news',
    subject: '{{ contact.traits.name }}, 20% off boots this week',
    html: `{% block content %}<h1>Autumn sale</h1>
<p>Hi {{ contact.traits.name }}, everything in the shop is 20% off until Sunday.</p>
<p><a href="https://example.com/demo/">Shop now</a></p>{% endblock %}`,
    layout: 'base',
  },
]

/**
 * Templates, a subscription group and messages through the `log` provider (the local default):
 * the newsletter to every sign-up, and the transactional welcome to those who did not agree to
 * marketing (the others get the welcome series' email), so the console's messages show what
 * was sent and why the rest was not. Idempotency keys make a second `npm start` send nothing new.
 */
export async function demoMessages(
  api: DemoApi,
  users: readonly { userId: string; consent: boolean }[],
): Promise<Record<string, number>> {
  const allow = [409]
  await api.manage('creating a subscription group', '/api/subscription-groups', {
    method: 'POST',
    body: { id: 'product-news', name: 'Product news', defaultSubscribed: true },
    allow,
  })
  for (const [name, body] of Object.entries(DEMO_SNIPPETS)) {
    await api.manage(`saving the snippet ${name}`, `/api/snippets/${name}`, {
      method: 'PUT',
      body: { body },
      allow,
    })
  }
  for (const template of DEMO_TEMPLATES) {
    await api.manage(`creating the template ${template.name}`, '/api/templates', {
      method: 'POST',
      body: template,
      allow,
    })
  }
  const statuses: Record<string, number> = {}
  const sends = users.flatMap(({ userId, consent }) =>
    (consent ? ['autumn-sale'] : ['welcome', 'autumn-sale']).map((template) => ({
      userId,
      template,
    })),
  )
  await inPool(sends, 4, async ({ userId, template }) => {
    const message = await api.post<{ status: string }>(
      `sending ${template} to ${userId}`,
      '/api/messages/send',
      { contactId: userId, template, idempotencyKey: `demo-${template}-${userId}` },
    )
    statuses[message.status] = (statuses[message.status] ?? 0) + 1
  })
  return statuses
}

export function describeCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts)
  if (entries.length === 0) return 'none'
  return entries.map(([status, n]) => `${n} ${status}`).join(', ')
}
