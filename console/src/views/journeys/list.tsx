import { useEffect, useState } from 'preact/hooks'
import {
  journeyLibrary,
  journeyList,
  liveFigures,
  liveLabel,
  mayChangeJourneys,
  type JourneyRow,
  type LibraryTemplate,
} from '../../models/journeys'
import { href, navigate, route, setQuery } from '../../models/router'
import { session } from '../../models/session'
import { Async, DenseTable, ErrorNotice, Link, PageHeader } from '../common'
import { count, when } from '../format'
import { rate } from './format'
import { journeyHref, StatusBadge } from './journey'

/** `/journeys`: every journey with its live version's figures; `?new=` opens the new form. */
export function JourneyList() {
  useEffect(() => {
    void journeyList.load()
  }, [])
  const creating = route.query.value.get('new')
  const editor = mayChangeJourneys(session.role.value)
  return (
    <>
      <PageHeader title="Journeys">
        {editor && creating === null && (
          <Link class="button primary" href={href('/journeys', { new: 'blank' })}>
            New journey
          </Link>
        )}
      </PageHeader>
      <div class="stack">
        {editor && creating !== null && <NewJourney chosen={creating} />}
        <Async
          req={journeyList.rows}
          retry={() => void journeyList.load()}
          loadingLabel="Loading journeys…"
          empty="No journeys yet. Start one from the library: welcome series, abandoned cart…"
        >
          {(rows) => <JourneyTable rows={rows} />}
        </Async>
      </div>
    </>
  )
}

function JourneyTable({ rows }: { rows: JourneyRow[] }) {
  return (
    <DenseTable
      items={rows}
      empty="No journeys."
      class="dense journeys-table"
      head={
        <>
          <th scope="col">Name</th>
          <th scope="col">Status</th>
          <th scope="col">Live version</th>
          <th scope="col" class="num">
            Latest
          </th>
          <th scope="col" class="num">
            Entered
          </th>
          <th scope="col" class="num">
            Converted
          </th>
          <th scope="col" class="num">
            Completion
          </th>
          <th scope="col">Updated</th>
        </>
      }
      row={(journey) => {
        const figures = journey.metrics ? liveFigures(journey.metrics) : null
        return (
          <tr key={journey.id} data-journey={journey.id}>
            <td>
              <Link href={journeyHref(journey.id)}>{journey.name}</Link>
            </td>
            <td>
              <StatusBadge status={journey.status} />
            </td>
            <td class="nowrap">{liveLabel(journey.live)}</td>
            <td class="num">{journey.latestVersion ? `v${journey.latestVersion}` : '—'}</td>
            <td class="num" data-figure="entered">
              {count(figures?.entered)}
            </td>
            <td class="num" data-figure="converted">
              {count(figures?.converted)}
            </td>
            <td class="num" data-figure="completion">
              {rate(figures?.completionRate)}
            </td>
            <td class="nowrap muted">{when(journey.updatedAt)}</td>
          </tr>
        )
      }}
    />
  )
}

/** Name and starting point: blank, or a library template with what it will create. */
function NewJourney({ chosen }: { chosen: string }) {
  const [name, setName] = useState('')
  useEffect(() => {
    void journeyLibrary.load()
  }, [])
  const { creating } = journeyLibrary
  const templates = journeyLibrary.templates.data.value ?? []
  const template = templates.find((t) => t.id === chosen)
  return (
    <form
      class="panel form new-journey"
      aria-labelledby="new-journey-title"
      onSubmit={async (event) => {
        event.preventDefault()
        const journey = await journeyLibrary.create(name.trim(), template?.id)
        if (!journey) return
        void journeyList.load()
        navigate(journeyHref(journey.id, template ? '' : '/edit'))
      }}
    >
      <h2 id="new-journey-title">New journey</h2>
      <label>
        Name
        <input
          required
          maxLength={100}
          value={name}
          placeholder={template?.name ?? 'Onboarding'}
          onInput={(e) => setName(e.currentTarget.value)}
          autoFocus
        />
      </label>
      <fieldset>
        <legend>Start from</legend>
        <div class="template-choices" role="radiogroup" aria-label="Start from">
          <TemplateChoice
            id="blank"
            name="Blank"
            description="An empty journey entered through the API; build it in the editor."
            checked={!template}
          />
          <Async
            req={journeyLibrary.templates}
            retry={() => void journeyLibrary.load()}
            loadingLabel="Loading the library…"
          >
            {(items) => (
              <>
                {items.map((t) => (
                  <TemplateChoice
                    key={t.id}
                    id={t.id}
                    name={t.name}
                    description={t.description}
                    creates={t.creates}
                    checked={template?.id === t.id}
                  />
                ))}
              </>
            )}
          </Async>
        </div>
      </fieldset>
      {creating.error.value && (
        <ErrorNotice error={creating.error.value} title="The journey was not created" />
      )}
      <div class="toolbar">
        <button type="submit" class="primary" disabled={creating.loading.value || !name.trim()}>
          {creating.loading.value ? 'Creating…' : 'Create journey'}
        </button>
        <Link class="button" href="/journeys">
          Cancel
        </Link>
      </div>
    </form>
  )
}

function TemplateChoice({
  id,
  name,
  description,
  creates,
  checked,
}: {
  id: string
  name: string
  description: string
  creates?: LibraryTemplate['creates']
  checked: boolean
}) {
  const made = creates
    ? [
        ...creates.emailTemplates.map((t) => `email template ${t.id}`),
        ...creates.segments.map((s) => `segment ${s.id}`),
      ]
    : []
  return (
    <label class={checked ? 'template-choice checked' : 'template-choice'} data-template={id}>
      <span class="template-name">
        <input
          type="radio"
          name="journey-template"
          value={id}
          checked={checked}
          onChange={() => setQuery({ new: id })}
        />
        {name}
      </span>
      <span class="template-description">{description}</span>
      {made.length > 0 && <span class="muted small">Creates {made.join(', ')} if missing.</span>}
    </label>
  )
}
