import { useModel } from '@preact/signals'
import type { ComponentChildren } from 'preact'
import { useEffect } from 'preact/hooks'
import { may } from '../models/access'
import { dsar } from '../models/compliance'
import {
  ContactModel,
  PURPOSES,
  type Contact,
  type JourneyRun,
  type Names,
  type Touch,
} from '../models/contacts'
import { href } from '../models/router'
import { session } from '../models/session'
import {
  Async,
  Badge,
  DenseTable,
  Empty,
  ErrorNotice,
  Facts,
  Link,
  PageHeader,
  Tabs,
} from './common'
import { contactHref, displayName } from './contacts'
import { count, inline, when } from './format'
import './contact.css'
import { ContactMessages } from './messages'
import { ContactPredictionsTab } from './predictions/contact-tab'
import { Timeline } from './timeline'

export const CONTACT_TABS = [
  { id: 'timeline', label: 'Timeline' },
  { id: 'traits', label: 'Traits' },
  { id: 'consent', label: 'Consent' },
  { id: 'identities', label: 'Identities' },
  { id: 'touches', label: 'Touches' },
  { id: 'messages', label: 'Messages' },
  { id: 'segments', label: 'Segments' },
  { id: 'journeys', label: 'Journeys' },
  { id: 'predictions', label: 'Predictions' },
] as const

export type ContactTab = (typeof CONTACT_TABS)[number]['id']

/** One contact; mounted with `key={id}` so each contact gets its own model. */
export function ContactScreen({ id, tab }: { id: string; tab: ContactTab }) {
  const contact = useModel(() => new ContactModel(id))
  useEffect(() => {
    void contact.loadProfile()
  }, [contact])

  const profile = contact.profile.data.value
  const title = profile ? (displayName(profile.traits) ?? profile.key) : id
  return (
    <>
      <p class="breadcrumb">
        <Link href="/contacts">Contacts</Link> <span aria-hidden="true">/</span>
      </p>
      <PageHeader title={title}>
        <ProfileActions id={profile?.key ?? id} />
      </PageHeader>
      <Async
        req={contact.profile}
        retry={() => void contact.loadProfile()}
        errorTitle={(error) => (error.status === 404 ? 'No such contact' : undefined)}
        loadingLabel="Loading profile…"
      >
        {(data) => (
          <>
            <Summary contact={data} />
            <Tabs
              label="Contact sections"
              items={CONTACT_TABS.map((t) => ({
                href: contactHref(id, t.id === 'timeline' ? undefined : t.id),
                label: t.label,
                active: t.id === tab,
              }))}
            />
            <div class="tab-panel">
              {tab === 'timeline' && <Timeline timeline={contact.timeline} />}
              {tab === 'traits' && <Traits contact={data} />}
              {tab === 'consent' && <Consent contact={contact} />}
              {tab === 'identities' && <Identities contact={data} />}
              {tab === 'touches' && <Touches contact={contact} />}
              {tab === 'messages' && <ContactMessages contact={data} />}
              {tab === 'segments' && <Segments contact={contact} profile={data} />}
              {tab === 'journeys' && <Journeys contact={contact} />}
              {tab === 'predictions' && <ContactPredictionsTab contact={contact} />}
            </div>
          </>
        )}
      </Async>
    </>
  )
}

function ProfileActions({ id }: { id: string }) {
  if (!may(session.role.value, 'privacy')) return null
  return (
    <>
      <button
        type="button"
        onClick={() => void dsar.download(id)}
        disabled={dsar.downloading.value}
      >
        {dsar.downloading.value ? 'Exporting…' : 'Export data (DSAR)'}
      </button>
      <Link
        class="button danger"
        href={href('/compliance/erasures/new', {
          kind: id.startsWith('anon:') ? 'anonymousId' : 'userId',
          value: id.startsWith('anon:') ? id.slice(5) : id,
        })}
      >
        Erase…
      </Link>
      {dsar.error.value && <ErrorNotice error={dsar.error.value} title="Export failed" />}
    </>
  )
}

function ConsentBadge({ value }: { value: boolean | null | undefined }) {
  if (value === true) return <Badge tone="ok">granted</Badge>
  if (value === false) return <Badge tone="bad">denied</Badge>
  return <Badge>no decision</Badge>
}

function Summary({ contact }: { contact: Contact }) {
  const email = contact.traits.email
  return (
    <Facts
      items={[
        ['Key', <span class="mono">{contact.key}</span>],
        ['User id', contact.userId ?? '—'],
        ['Email', typeof email === 'string' ? email : '—'],
        ['Anonymous ids', count(contact.anonymousIds.length)],
        ['Events', count(contact.eventCount)],
        ['First seen', when(contact.firstSeen)],
        ['Last seen', when(contact.lastSeen)],
        [
          'Consent',
          <span class="consent-summary">
            {PURPOSES.map((p) => (
              <span key={p}>
                {p} <ConsentBadge value={contact.consent?.[p]} />
              </span>
            ))}
          </span>,
        ],
      ]}
    />
  )
}

function Traits({ contact }: { contact: Contact }) {
  const traits = Object.entries(contact.traits)
  return (
    <div class="two-col">
      <section class="panel">
        <h2>Current traits</h2>
        {traits.length === 0 ? (
          <Empty>No traits recorded.</Empty>
        ) : (
          <table class="dense kv">
            <tbody>
              {traits.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td class="wrap">{inline(value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>Event counters</h2>
        <DenseTable
          items={contact.counters}
          empty="No events counted."
          head={
            <>
              <th scope="col">Event</th>
              <th scope="col" class="num">
                Count
              </th>
              <th scope="col">First</th>
              <th scope="col">Last</th>
            </>
          }
          row={(c) => (
            <tr key={c.name}>
              <td>{c.name}</td>
              <td class="num">{count(c.count)}</td>
              <td class="nowrap">{when(c.firstAt)}</td>
              <td class="nowrap">{when(c.lastAt)}</td>
            </tr>
          )}
        />
      </section>
      <section class="panel">
        <h2>Trait history</h2>
        <DenseTable
          items={contact.traitHistory}
          empty="No trait changes recorded."
          head={
            <>
              <th scope="col">When</th>
              <th scope="col">Trait</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </>
          }
          row={(change, i) => (
            <tr key={`${change.at}-${change.key}-${i}`}>
              <td class="nowrap">{when(change.at)}</td>
              <td>{change.key}</td>
              <td class="wrap muted">{inline(change.from)}</td>
              <td class="wrap">{inline(change.to)}</td>
            </tr>
          )}
        />
      </section>
    </div>
  )
}

function Consent({ contact }: { contact: ContactModel }) {
  useEffect(() => {
    void contact.loadConsent()
  }, [contact])
  return (
    <Async
      req={contact.consent}
      retry={() => void contact.loadConsent()}
      errorTitle={(e) => (e.status === 404 ? 'The consent ledger is not available' : undefined)}
      loadingLabel="Loading consent ledger…"
    >
      {(record) => (
        <div class="stack">
          <section class="panel">
            <h2>Current consent</h2>
            <div class="purposes">
              {PURPOSES.map((p) => (
                <div key={p} class="purpose">
                  <span>{p}</span>
                  <ConsentBadge value={record.current?.[p]} />
                </div>
              ))}
            </div>
          </section>
          <section class="panel">
            <h2>Ledger</h2>
            <DenseTable
              items={record.ledger}
              empty="No consent decisions recorded for this contact."
              head={
                <>
                  <th scope="col">When</th>
                  {PURPOSES.map((p) => (
                    <th key={p} scope="col">
                      {p}
                    </th>
                  ))}
                  <th scope="col">Policy</th>
                  <th scope="col">Source</th>
                  <th scope="col">Method</th>
                  <th scope="col">IP hash</th>
                </>
              }
              row={(row, i) => (
                <tr key={`${row.at}-${i}`}>
                  <td class="nowrap">{when(row.at)}</td>
                  {PURPOSES.map((p) => (
                    <td key={p}>
                      {row.purposes[p] === undefined ? (
                        <span class="muted">—</span>
                      ) : (
                        <ConsentBadge value={row.purposes[p]} />
                      )}
                    </td>
                  ))}
                  <td>{row.policyVersion}</td>
                  <td>{row.source}</td>
                  <td>{row.method}</td>
                  <td class="mono muted">{row.ipHash ? row.ipHash.slice(0, 12) : '—'}</td>
                </tr>
              )}
            />
          </section>
        </div>
      )}
    </Async>
  )
}

function Identities({ contact }: { contact: Contact }) {
  return (
    <div class="two-col">
      <section class="panel">
        <h2>Identity graph</h2>
        <DenseTable
          items={contact.identities}
          empty="No linked identities."
          head={
            <>
              <th scope="col">Kind</th>
              <th scope="col">Value</th>
              <th scope="col">Status</th>
              <th scope="col">Linked</th>
              <th scope="col">Detail</th>
            </>
          }
          row={(identity, i) => (
            <tr key={`${identity.kind}-${identity.value}-${i}`}>
              <td>{identity.kind}</td>
              <td class="mono ellipsis">{identity.value}</td>
              <td>{identity.status}</td>
              <td class="nowrap">{when(identity.linkedAt)}</td>
              <td class="muted">{identity.detail ?? ''}</td>
            </tr>
          )}
        />
      </section>
      <section class="panel">
        <h2>Anonymous ids</h2>
        {contact.anonymousIds.length === 0 ? (
          <Empty>None.</Empty>
        ) : (
          <ul class="plain mono">
            {contact.anonymousIds.map((id) => (
              <li key={id}>{id}</li>
            ))}
          </ul>
        )}
        <h2>Groups</h2>
        <DenseTable
          items={contact.groups}
          empty="Not in any group."
          head={
            <>
              <th scope="col">Group</th>
              <th scope="col">Traits</th>
              <th scope="col">Joined</th>
            </>
          }
          row={(g) => (
            <tr key={g.groupId}>
              <td class="mono">{g.groupId}</td>
              <td class="wrap muted">{inline(g.traits)}</td>
              <td class="nowrap">{when(g.joinedAt)}</td>
            </tr>
          )}
        />
      </section>
    </div>
  )
}

function campaignText(campaign: Touch['campaign']): string {
  if (!campaign) return '—'
  if (typeof campaign === 'string') return campaign
  return Object.entries(campaign)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
}

function Touches({ contact }: { contact: ContactModel }) {
  const fromProfile = contact.touchesFromProfile.value
  const timeline = contact.timeline
  useEffect(() => {
    if (!fromProfile && !timeline.started.peek()) void timeline.loadMore()
  }, [fromProfile])
  const touches: Touch[] = contact.touches.value
  return (
    <section class="panel">
      <h2>Attribution touches</h2>
      {!fromProfile && (
        <p class="muted small">
          Visits that arrived through a marketing channel, read from the{' '}
          {count(timeline.events.value.length)} timeline events loaded
          {timeline.done.value ? '' : ' so far'}.{' '}
          {!timeline.done.value && (
            <button
              type="button"
              class="link-button"
              onClick={() => void timeline.loadMore()}
              disabled={timeline.page.loading.value}
            >
              Load more events
            </button>
          )}
        </p>
      )}
      {timeline.page.error.value && <ErrorNotice error={timeline.page.error.value} />}
      <DenseTable
        items={touches}
        empty={timeline.page.loading.value ? 'Loading…' : 'No channel touches found.'}
        head={
          <>
            <th scope="col">When</th>
            <th scope="col">Channel</th>
            <th scope="col">Campaign</th>
            <th scope="col">Source / medium</th>
            <th scope="col">Landing page</th>
            <th scope="col">Click ids</th>
          </>
        }
        row={(touch, i) => (
          <tr key={`${touch.at}-${i}`}>
            <td class="nowrap">{when(touch.at)}</td>
            <td>{touch.channel}</td>
            <td class="ellipsis" title={campaignText(touch.campaign)}>
              {campaignText(touch.campaign)}
            </td>
            <td>
              {[touch.source ?? touch.referrerDomain, touch.medium].filter(Boolean).join(' / ') ||
                '—'}
            </td>
            <td class="ellipsis">{touch.path ?? '—'}</td>
            <td class="mono">{touch.clickIds?.join(', ') || '—'}</td>
          </tr>
        )}
      />
    </section>
  )
}

/** Names of segments and journeys for roles that may list them; the others see ids. */
function useNames(contact: ContactModel): Names | undefined {
  const role = session.role.value
  useEffect(() => {
    void contact.loadNames({ segments: may(role, 'segments'), journeys: may(role, 'journeys') })
  }, [contact, role])
  return contact.names.data.value
}

/** A segment or journey by name (its id until names arrive), linked when the role may open it. */
function Named({
  id,
  name,
  href: to,
}: {
  id: string
  name: string | undefined
  href: string | undefined
}) {
  const label = name ?? id
  return to ? <Link href={to}>{label}</Link> : <>{label}</>
}

function Segments({ contact, profile }: { contact: ContactModel; profile: Contact }) {
  const names = useNames(contact)
  const linked = may(session.role.value, 'segments')
  return (
    <div class="wide-narrow">
      <section class="panel" aria-labelledby="contact-segments-title">
        <h2 id="contact-segments-title">Segments</h2>
        <DenseTable
          items={profile.segmentMemberships}
          empty="In no segment."
          data-contact-segments
          head={
            <>
              <th scope="col">Segment</th>
              <th scope="col">Id</th>
              <th scope="col">Member since</th>
            </>
          }
          row={(membership) => (
            <tr key={membership.id} data-segment={membership.id}>
              <td class="wrap">
                <Named
                  id={membership.id}
                  name={names?.segments.get(membership.id)}
                  href={linked ? `/segments/${encodeURIComponent(membership.id)}` : undefined}
                />
              </td>
              <td class="mono muted nowrap">{membership.id}</td>
              <td class="nowrap">{when(membership.since)}</td>
            </tr>
          )}
        />
      </section>
      <section class="panel" aria-labelledby="contact-lists-title">
        <h2 id="contact-lists-title">Lists</h2>
        {profile.lists.length === 0 ? (
          <Empty>On no list.</Empty>
        ) : (
          <ul class="plain mono" data-contact-lists>
            {profile.lists.map((list) => (
              <li key={list}>{list}</li>
            ))}
          </ul>
        )}
      </section>
    </div>
  )
}

const RUN_TONE: Record<JourneyRun['state'], string> = {
  active: 'warn',
  completed: 'ok',
  exited: 'neutral',
}

function Journeys({ contact }: { contact: ContactModel }) {
  const names = useNames(contact)
  useEffect(() => {
    void contact.loadJourneys()
  }, [contact])
  return (
    <Async
      req={contact.journeys}
      retry={() => void contact.loadJourneys()}
      empty="Never in a journey."
      loadingLabel="Loading journey runs…"
    >
      {(runs) => (
        <div class="stack" data-journey-runs>
          {runs.map((run, i) => (
            <JourneyRunView
              key={run.id}
              run={run}
              name={names?.journeys.get(run.journeyId)}
              open={i < 5}
            />
          ))}
        </div>
      )}
    </Async>
  )
}

function JourneyRunView({ run, name, open }: { run: JourneyRun; name?: string; open: boolean }) {
  const linked = may(session.role.value, 'journeys')
  const paths = Object.entries(run.paths)
  const facts: [string, ComponentChildren][] = [
    [run.state === 'active' ? 'Waiting at' : 'Last node', <span class="mono">{run.node}</span>],
  ]
  if (run.waitingUntil) facts.push(['Until', when(run.waitingUntil)])
  if (run.reason) facts.push(['Why it ended', run.reason])
  if (paths.length) {
    facts.push(['Experiment paths', paths.map(([node, path]) => `${node} → ${path}`).join(', ')])
  }
  facts.push(['Run', <span class="mono">{run.id}</span>])
  return (
    <details class="panel journey-run" open={open} data-run={run.id}>
      <summary>
        <strong>
          <Named
            id={run.journeyId}
            name={name}
            href={linked ? `/journeys/${encodeURIComponent(run.journeyId)}` : undefined}
          />
        </strong>{' '}
        <span class="muted">version {run.version}</span>{' '}
        <Badge tone={RUN_TONE[run.state]}>{run.state}</Badge>
        {run.converted && <Badge tone="ok">converted</Badge>}{' '}
        <span class="muted small">
          entered {when(run.enteredAt)}
          {run.endedAt ? ` · ended ${when(run.endedAt)}` : ''}
        </span>
      </summary>
      <dl class="run-facts small">
        {facts.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <DenseTable
        items={run.steps}
        empty="No step recorded yet."
        data-steps
        head={
          <>
            <th scope="col">At</th>
            <th scope="col">Node</th>
            <th scope="col">Type</th>
            <th scope="col">Outcome</th>
            <th scope="col">Next</th>
          </>
        }
        row={(step, i) => (
          <tr key={`${step.at}-${step.node}-${i}`}>
            <td class="nowrap">{when(step.at)}</td>
            <td class="mono">{step.node}</td>
            <td>{step.type}</td>
            <td class="wrap">{step.outcome}</td>
            <td class="mono">{step.next ?? '—'}</td>
          </tr>
        )}
      />
    </details>
  )
}
