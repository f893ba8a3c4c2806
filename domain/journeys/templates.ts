import type { Rule } from '../segments/rule'
import type { JourneyDefinition } from './definition'

/**
 * The journey template library (`POST /api/journeys {name, template}`): five journeys marketers
 * start from, each with the email templates and segments its definition names, so creating one
 * makes whatever is missing and saves a valid definition in one call (edge/journeys/library.ts).
 * Everything is editable afterwards; a marketer who already edited "abandoned-cart-reminder"
 * keeps their copy.
 *
 * Ids of email templates and segments start with the journey template's id, so two library
 * journeys never share one by accident. Email template ids are the slugs of their names, as the
 * templates API makes them. Templates are Liquid: `contact.traits.*` (with a default for a
 * missing first name), `event.*` the event that started the run (`event.properties.*`).
 *
 * Runs keep going until the goal's window closes (a last waitFor on the goal event), so a
 * conversion late in the window still counts as one; each waitFor also names the goal's event,
 * so the graph ends sensibly if a marketer removes the goal.
 */

export interface LibraryEmailTemplate {
  id: string
  name: string
  subject: string
  html: string
  text?: string
  kind: 'marketing' | 'transactional'
}

export interface LibrarySegment {
  id: string
  name: string
  rule: Rule
}

export interface JourneyTemplate {
  id: string
  name: string
  description: string
  definition: JourneyDefinition
  emailTemplates: LibraryEmailTemplate[]
  segments: LibrarySegment[]
}

const FIRST_NAME = `{{ contact.traits.firstName | default: 'there' }}`

const welcomeSeries: JourneyTemplate = {
  id: 'welcome-series',
  name: 'Welcome series',
  description:
    'Welcomes each new sign-up, sends getting-started tips two days later and a nudge if they have not activated three days after that. Converts on Activated within 7 days.',
  definition: {
    entry: { event: 'Signed Up' },
    reentry: 'never',
    goal: { performed: 'Activated', within: { days: 7 } },
    start: 'welcome',
    nodes: {
      welcome: { type: 'email', template: 'welcome-series-welcome', next: 'wait-2-days' },
      'wait-2-days': { type: 'wait', for: { days: 2 }, next: 'tips' },
      tips: { type: 'email', template: 'welcome-series-tips', next: 'wait-for-activation' },
      'wait-for-activation': {
        type: 'waitFor',
        performed: 'Activated',
        timeout: { days: 3 },
        next: 'done',
        onTimeout: 'nudge',
      },
      nudge: { type: 'email', template: 'welcome-series-nudge', next: 'last-chance' },
      'last-chance': {
        type: 'waitFor',
        performed: 'Activated',
        timeout: { days: 2 },
        next: 'done',
        onTimeout: 'done',
      },
      done: { type: 'exit' },
    },
  },
  emailTemplates: [
    {
      id: 'welcome-series-welcome',
      name: 'Welcome series: welcome',
      subject: `Welcome aboard, ${FIRST_NAME}!`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Thanks for signing up. Everything you need is one click away: sign in and create your first project.</p>
<p>Reply to this email if anything is unclear; a person reads every answer.</p>`,
      kind: 'marketing',
    },
    {
      id: 'welcome-series-tips',
      name: 'Welcome series: tips',
      subject: 'Three tips to get started',
      html: `<p>Hi ${FIRST_NAME},</p>
<ol>
  <li>Invite a teammate: work is quicker shared.</li>
  <li>Connect your data so the dashboards fill themselves.</li>
  <li>Turn on notifications for what matters to you.</li>
</ol>`,
      kind: 'marketing',
    },
    {
      id: 'welcome-series-nudge',
      name: 'Welcome series: nudge',
      subject: `Need a hand getting started, ${FIRST_NAME}?`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>You have not finished setting up yet. It takes five minutes, and we are happy to walk you through it: just reply.</p>`,
      kind: 'marketing',
    },
  ],
  segments: [],
}

const abandonedCart: JourneyTemplate = {
  id: 'abandoned-cart',
  name: 'Abandoned cart',
  description:
    'Reminds a shopper an hour after they add a product and do not order, then offers 10% off a day later. Converts on Order Completed within 3 days.',
  definition: {
    entry: { event: 'Product Added' },
    // One reminder series a week at most, however many carts a shopper leaves.
    reentry: { after: { days: 7 } },
    goal: { performed: 'Order Completed', within: { days: 3 } },
    start: 'wait-for-order',
    nodes: {
      'wait-for-order': {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { hours: 1 },
        next: 'done',
        onTimeout: 'reminder',
      },
      reminder: {
        type: 'email',
        template: 'abandoned-cart-reminder',
        next: 'wait-for-order-again',
      },
      'wait-for-order-again': {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { days: 1 },
        next: 'done',
        onTimeout: 'incentive',
      },
      incentive: { type: 'email', template: 'abandoned-cart-incentive', next: 'last-chance' },
      'last-chance': {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { days: 2 },
        next: 'done',
        onTimeout: 'done',
      },
      done: { type: 'exit' },
    },
  },
  // The product named is the one whose adding started the run (`Product Added` properties as
  // the Segment e-commerce spec names them: name, price, url).
  emailTemplates: [
    {
      id: 'abandoned-cart-reminder',
      name: 'Abandoned cart: reminder',
      subject: `You left {{ event.properties.name | default: 'something' }} in your cart`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>{{ event.properties.name | default: 'Your item' }}{% if event.properties.price %} ({{ event.properties.price }}){% endif %} is still in your cart.</p>
{% if event.properties.url %}<p><a href="{{ event.properties.url }}">Back to your cart</a></p>{% endif %}`,
      kind: 'marketing',
    },
    {
      id: 'abandoned-cart-incentive',
      name: 'Abandoned cart: incentive',
      subject: `10% off {{ event.properties.name | default: 'your cart' }}, today only`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Still thinking about {{ event.properties.name | default: 'it' }}? Use the code <strong>CART10</strong> at checkout for 10% off.</p>
{% if event.properties.url %}<p><a href="{{ event.properties.url }}">Complete your order</a></p>{% endif %}`,
      kind: 'marketing',
    },
  ],
  segments: [],
}

const postPurchase: JourneyTemplate = {
  id: 'post-purchase',
  name: 'Post-purchase',
  description:
    'Asks for a review three days after an order, then a week after the order suggests what to buy next, on a weekday at 10:00 in the contact’s time zone.',
  definition: {
    entry: { event: 'Order Completed' },
    // Every order starts a new run, once the one before has ended.
    reentry: 'after_exit',
    start: 'wait-3-days',
    nodes: {
      'wait-3-days': { type: 'wait', for: { days: 3 }, next: 'review-request' },
      'review-request': {
        type: 'email',
        template: 'post-purchase-review-request',
        next: 'wait-4-days',
      },
      // The cross-sell must not follow the review request within minutes.
      'wait-4-days': { type: 'wait', for: { days: 4 }, next: 'weekday-morning' },
      'weekday-morning': {
        type: 'waitUntil',
        time: '10:00',
        days: ['mon', 'tue', 'wed', 'thu', 'fri'],
        timezone: 'contact',
        next: 'cross-sell',
      },
      'cross-sell': { type: 'email', template: 'post-purchase-cross-sell', next: 'done' },
      done: { type: 'exit' },
    },
  },
  emailTemplates: [
    {
      id: 'post-purchase-review-request',
      name: 'Post-purchase: review request',
      subject: 'How was your order?',
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Your order{% if event.properties.order_id %} {{ event.properties.order_id }}{% endif %} should be with you by now. Would you tell others what you think of it? It takes a minute and helps them choose.</p>`,
      kind: 'marketing',
    },
    {
      id: 'post-purchase-cross-sell',
      name: 'Post-purchase: cross-sell',
      subject: `Picked for you, ${FIRST_NAME}`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Customers who bought what you did last week also liked these. Have a look at what is new this week.</p>`,
      kind: 'marketing',
    },
  ],
  segments: [],
}

const CHURN_RISK_HIGH: Rule = { prediction: 'churnRisk', op: 'gte', value: 0.5 }

const winBack: JourneyTemplate = {
  id: 'win-back',
  name: 'Win-back',
  description:
    'Reaches customers (a purchase at least) the churn model marks at risk (churn risk 0.5 or more, with marketing consent), and a week later sends an incentive to those still at risk. Converts on Order Completed within 30 days; a contact may enter again after 90 days.',
  definition: {
    entry: { segment: 'win-back-at-risk', on: 'enter' },
    reentry: { after: { days: 90 } },
    goal: { performed: 'Order Completed', within: { days: 30 } },
    start: 'we-miss-you',
    nodes: {
      'we-miss-you': { type: 'email', template: 'win-back-we-miss-you', next: 'wait-7-days' },
      'wait-7-days': { type: 'wait', for: { days: 7 }, next: 'still-at-risk' },
      'still-at-risk': {
        type: 'branch',
        cases: [{ rule: CHURN_RISK_HIGH, next: 'incentive' }],
        otherwise: 'goal-window',
      },
      incentive: { type: 'email', template: 'win-back-incentive', next: 'goal-window' },
      'goal-window': {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { days: 23 },
        next: 'done',
        onTimeout: 'done',
      },
      done: { type: 'exit' },
    },
  },
  emailTemplates: [
    {
      id: 'win-back-we-miss-you',
      name: 'Win-back: we miss you',
      subject: `We miss you, ${FIRST_NAME}`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>It has been a while. Here is what changed since your last visit: new arrivals every week and free returns on every order.</p>`,
      kind: 'marketing',
    },
    {
      id: 'win-back-incentive',
      name: 'Win-back: incentive',
      subject: '15% off to welcome you back',
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Come back for 15% off your next order with the code <strong>WELCOMEBACK15</strong>, valid for 30 days.</p>`,
      kind: 'marketing',
    },
  ],
  segments: [
    {
      id: 'win-back-at-risk',
      name: 'Win-back: at risk',
      // A contact who never bought has engagement alone for churn risk, so without the purchase a
      // fresh sign-up would count as at risk: win-back is for lapsed customers.
      rule: {
        all: [
          CHURN_RISK_HIGH,
          { consent: 'marketing', granted: true },
          { performed: 'Order Completed' },
        ],
      },
    },
  ],
}

const LIKELY_TO_LAPSE: Rule = { prediction: 'lapseRisk', op: 'gte', value: 0.05 }

/**
 * Win-back reaches customers who have probably gone; this one reaches those still buying whom the
 * purchase model expects to stop soon. Under the BG/NBD a customer stops only right after a
 * purchase, so the customers about to lapse are active ones, whom churn risk (1 − P(alive))
 * ranks low (docs/design/predictions.md, "Lapse risk").
 */
const beforeLapse: JourneyTemplate = {
  id: 'before-lapse',
  name: 'Before they lapse',
  description:
    'Reaches customers still buying whom the purchase model gives a 5% chance or more of stopping for good within 90 days (lapse risk 0.05, with marketing consent), with a thank-you and a perk. Converts on Order Completed within 30 days; a contact may enter again after 90 days.',
  definition: {
    entry: { segment: 'before-lapse-likely', on: 'enter' },
    reentry: { after: { days: 90 } },
    goal: { performed: 'Order Completed', within: { days: 30 } },
    start: 'thank-you',
    nodes: {
      'thank-you': { type: 'email', template: 'before-lapse-thank-you', next: 'goal-window' },
      'goal-window': {
        type: 'waitFor',
        performed: 'Order Completed',
        timeout: { days: 30 },
        next: 'done',
        onTimeout: 'done',
      },
      done: { type: 'exit' },
    },
  },
  emailTemplates: [
    {
      id: 'before-lapse-thank-you',
      name: 'Before lapse: thank you',
      subject: `A thank-you for you, ${FIRST_NAME}`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>Thank you for shopping with us. Free express delivery is on us for your next order, this month.</p>`,
      kind: 'marketing',
    },
  ],
  segments: [
    {
      id: 'before-lapse-likely',
      name: 'Before they lapse: likely to lapse',
      // Lapse risk is null for a contact who never bought, so the rule holds for customers only.
      rule: { all: [LIKELY_TO_LAPSE, { consent: 'marketing', granted: true }] },
    },
  ],
}

/**
 * Page views reach journeys as events named `$page` (the contact object names them so, as
 * segment rules do), so the waitFor nodes and the goal wait for a visit itself, with no track
 * event the site would have to add.
 */
const VISITED_RECENTLY: Rule = { performed: '$page', within: { days: 30 } }

const reEngagement: JourneyTemplate = {
  id: 're-engagement',
  name: 'Re-engagement',
  description:
    'Writes to visitors who came in the last 90 days but not in the last 30, again a week later, and marks those who still do not come back (trait engagementStatus: unresponsive) so they can be left out of campaigns. Converts on a visit within 14 days; anyone active again leaves.',
  definition: {
    entry: { segment: 're-engagement-lapsed', on: 'enter' },
    reentry: { after: { days: 90 } },
    goal: { performed: '$page', within: { days: 14 } },
    // A visit reaching the run is the goal; this catches one it never sees, such as a page
    // view stored late with a time before the run began.
    exitWhen: VISITED_RECENTLY,
    start: 'we-miss-you',
    nodes: {
      'we-miss-you': {
        type: 'email',
        template: 're-engagement-we-miss-you',
        next: 'wait-for-visit',
      },
      'wait-for-visit': {
        type: 'waitFor',
        performed: '$page',
        timeout: { days: 7 },
        next: 'done',
        onTimeout: 'last-call',
      },
      'last-call': {
        type: 'email',
        template: 're-engagement-last-call',
        next: 'wait-for-visit-again',
      },
      'wait-for-visit-again': {
        type: 'waitFor',
        performed: '$page',
        timeout: { days: 7 },
        next: 'done',
        onTimeout: 'mark-unresponsive',
      },
      'mark-unresponsive': {
        type: 'updateTraits',
        traits: { engagementStatus: 'unresponsive' },
        next: 'done',
      },
      done: { type: 'exit' },
    },
  },
  emailTemplates: [
    {
      id: 're-engagement-we-miss-you',
      name: 'Re-engagement: we miss you',
      subject: `It has been a while, ${FIRST_NAME}`,
      html: `<p>Hi ${FIRST_NAME},</p>
<p>We have not seen you for a month. Here is the best of what you missed, one click away.</p>`,
      kind: 'marketing',
    },
    {
      id: 're-engagement-last-call',
      name: 'Re-engagement: last call',
      subject: 'Should we keep writing to you?',
      html: `<p>Hi ${FIRST_NAME},</p>
<p>We would rather write less than write to no one. Visit us this week to keep hearing from us, or use your mail app’s Unsubscribe button.</p>`,
      kind: 'marketing',
    },
  ],
  segments: [
    {
      id: 're-engagement-lapsed',
      name: 'Re-engagement: lapsed visitors',
      // Active in the last 90 days but not the last 30: contacts who never came are not lapsed.
      rule: {
        all: [{ performed: '$page', within: { days: 90 } }, { not: VISITED_RECENTLY }],
      },
    },
  ],
}

export const JOURNEY_TEMPLATES = {
  'welcome-series': welcomeSeries,
  'abandoned-cart': abandonedCart,
  'post-purchase': postPurchase,
  'win-back': winBack,
  'before-lapse': beforeLapse,
  're-engagement': reEngagement,
} as const satisfies Record<string, JourneyTemplate>
