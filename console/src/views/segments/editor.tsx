import { useModel } from '@preact/signals'
import { useEffect, useState } from 'preact/hooks'
import { may } from '../../models/access'
import { pickers, SegmentEditorModel, usersOf, type SegmentEditor } from '../../models/segments'
import { route, setQuery } from '../../models/router'
import { parseRule } from '../../models/segment-rules'
import { session } from '../../models/session'
import { LineChart } from '../chart'
import { Async, Empty, ErrorNotice, Facts, Link, Loading, PageHeader } from '../common'
import { contactHref } from '../contacts'
import { count, when } from '../format'
import { RuleBuilder } from './builder'
import { segmentHref } from './list'

/**
 * `/segments/new` and `/segments/:id`: the name, the rule builder and, beside it, how many
 * contacts the rule matches now with a sample of them, counted by the API as the rule changes.
 * A saved segment also shows its members, and who entered and left per day.
 */
export function SegmentEditorScreen({ id }: { id?: string }) {
  const editor = useModel(() => {
    if (id) return new SegmentEditorModel(id)
    const query = route.query.peek()
    return new SegmentEditorModel(undefined, {
      name: query.get('name') ?? undefined,
      tree: parseRule(query.get('rule')),
    })
  })
  useEffect(() => {
    pickers.load()
    void editor.load()
  }, [editor])
  // An unsaved segment lives in the URL, so a reload or a shared link keeps it.
  const draftName = editor.name.value
  const draftRule = editor.empty.value ? undefined : editor.ruleText.value
  useEffect(() => {
    if (!id) setQuery({ name: draftName, rule: draftRule })
  }, [id, draftName, draftRule])
  const segment = editor.detail.data.value
  const canEdit = may(session.role.value, 'editSegments')

  if (id && !segment) {
    return (
      <>
        <Breadcrumb name={id} />
        <PageHeader title="Segment" />
        <Async
          req={editor.detail}
          retry={() => void editor.load()}
          errorTitle={(e) => (e.status === 404 ? 'No such segment' : undefined)}
          loadingLabel="Loading segment…"
        >
          {() => null}
        </Async>
      </>
    )
  }
  return (
    <>
      <Breadcrumb name={segment?.name} />
      <PageHeader title={segment ? segment.name : 'New segment'}>
        {segment && (
          <>
            <button
              type="button"
              onClick={() => editor.refreshDetail()}
              disabled={editor.detail.loading.value}
            >
              Refresh counts
            </button>
            <Link class="button" href={segmentHref(segment.id, '/members')}>
              Members ({count(segment.count)})
            </Link>
          </>
        )}
        {segment && canEdit && <DeleteSegment editor={editor} name={segment.name} />}
      </PageHeader>
      <div class="stack">
        {segment && (
          <>
            <Facts
              items={[
                ['Members', count(segment.count)],
                ['Last entered or left', segment.changedAt ? when(segment.changedAt) : 'never'],
                ['Created', when(segment.createdAt)],
                ['Rule edited', when(segment.updatedAt)],
                ['Id', <span class="mono">{segment.id}</span>],
              ]}
            />
          </>
        )}
        <div class="wide-narrow segment-edit">
          <section class="panel" aria-labelledby="segment-rule-title">
            <h2 id="segment-rule-title">Rule</h2>
            <NameForm editor={editor} canEdit={canEdit} isNew={!id} />
            <RuleBuilder editor={editor} self={id} />
          </section>
          <LiveCount editor={editor} />
        </div>
        {segment && <History history={segment.history} />}
      </div>
    </>
  )
}

function Breadcrumb({ name }: { name?: string }) {
  return (
    <p class="breadcrumb">
      <Link href="/segments">Segments</Link> <span aria-hidden="true">/</span>{' '}
      <span>{name ?? 'New'}</span>
    </p>
  )
}

function NameForm({
  editor,
  canEdit,
  isNew,
}: {
  editor: SegmentEditor
  canEdit: boolean
  isNew: boolean
}) {
  const saving = editor.save.loading.value
  const error = editor.save.error.value
  const nameIssues = editor.issues.value.get('')?.filter((i) => i.field === 'name') ?? []
  return (
    <form
      class="segment-name"
      aria-label="Segment name"
      onSubmit={(event) => {
        event.preventDefault()
        if (canEdit) void editor.submit()
      }}
    >
      <label>
        Name
        <input
          value={editor.name.value}
          required
          maxLength={100}
          placeholder="Pro customers who ordered this week"
          aria-invalid={nameIssues.length > 0 || undefined}
          readOnly={!canEdit}
          onInput={(e) => editor.rename(e.currentTarget.value)}
        />
      </label>
      {canEdit ? (
        <>
          <button
            type="submit"
            class="primary"
            disabled={saving || !editor.dirty.value || editor.empty.value}
          >
            {saving ? 'Saving…' : isNew ? 'Create segment' : 'Save'}
          </button>
          <span class="muted small" aria-live="polite">
            {editor.save.data.value && !editor.dirty.value
              ? 'Saved: members follow in the background.'
              : editor.dirty.value && !isNew
                ? 'Unsaved changes'
                : ''}
          </span>
        </>
      ) : (
        <span class="muted small">Your role may try rules here but not save them.</span>
      )}
      {error && (
        <div class="segment-save-error">
          <ErrorNotice
            title={error.status === 400 ? 'Not saved: fix the rules marked below' : 'Not saved'}
            error={error}
          />
        </div>
      )}
    </form>
  )
}

/** The count and sample for the rule as it stands, refreshed a moment after each change. */
function LiveCount({ editor }: { editor: SegmentEditor }) {
  const { preview } = editor
  const data = preview.data.value
  const error = preview.error.value
  const loading = preview.loading.value
  const placed = [...editor.issues.value.keys()].some((key) => key !== '')
  return (
    <section
      class="panel live-count"
      aria-labelledby="live-count-title"
      aria-busy={loading}
      data-preview-state={
        editor.empty.value ? 'empty' : error ? 'error' : loading ? 'loading' : 'ready'
      }
    >
      <h2 id="live-count-title">
        Matches now {loading && <span class="spinner" aria-hidden="true" />}
      </h2>
      {editor.empty.value ? (
        <p class="muted">Add a rule to count who matches.</p>
      ) : error ? (
        placed ? (
          <p class="bad-text" role="alert">
            The rule has problems, marked where they are.
          </p>
        ) : (
          <ErrorNotice error={error} title="Could not count" />
        )
      ) : data === undefined ? (
        <Loading label="Counting…" />
      ) : (
        <>
          <p class="live-count-number" aria-live="polite">
            <strong data-live-count={data.count}>{count(data.count)}</strong>{' '}
            {data.count === 1 ? 'contact' : 'contacts'}
          </p>
          {data.sample.length > 0 ? (
            <>
              <h3 class="small muted">
                {data.sample.length < data.count ? `A sample of ${data.sample.length}` : 'All'}
              </h3>
              <ul class="plain live-sample" data-sample>
                {data.sample.map((key) => (
                  <li key={key} class="ellipsis">
                    <Link href={contactHref(key)} class="mono">
                      {key}
                    </Link>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p class="muted small">No contact matches this rule now.</p>
          )}
        </>
      )}
      <p class="muted small">
        Counted over D1 as you edit. Saved members are computed by each contact and can lag a
        moment.
      </p>
    </section>
  )
}

function History({ history }: { history: { day: string; entered: number; exited: number }[] }) {
  const entered = history.reduce((sum, d) => sum + d.entered, 0)
  const exited = history.reduce((sum, d) => sum + d.exited, 0)
  return (
    <section class="panel" aria-labelledby="segment-history-title">
      <h2 id="segment-history-title">
        Entered and left per day{' '}
        <span class="muted small" data-history-totals>
          last {history.length} days: {count(entered)} entered, {count(exited)} left
        </span>
      </h2>
      {entered + exited === 0 ? (
        <Empty>
          <p>No contact entered or left in these days.</p>
        </Empty>
      ) : (
        <LineChart
          title="Contacts entering and leaving the segment per day"
          labels={history.map((d) => d.day)}
          series={[
            { key: 'entered', label: 'Entered', values: history.map((d) => d.entered) },
            { key: 'exited', label: 'Left', values: history.map((d) => d.exited) },
          ]}
        />
      )}
    </section>
  )
}

function DeleteSegment({ editor, name }: { editor: SegmentEditor; name: string }) {
  const [asking, setAsking] = useState(false)
  const error = editor.deletion.error.value
  const users = usersOf(error)
  if (!asking) {
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        Delete…
      </button>
    )
  }
  return (
    <div class="segment-delete" role="group" aria-label="Delete the segment">
      <span>
        Delete <strong>{name}</strong>? Its members leave it.
      </span>
      <button
        type="button"
        class="danger"
        disabled={editor.deletion.loading.value}
        onClick={() => void editor.destroy()}
      >
        Delete segment
      </button>
      <button
        type="button"
        onClick={() => {
          editor.deletion.reset()
          setAsking(false)
        }}
      >
        Cancel
      </button>
      {error && (
        <div class="segment-delete-error" data-delete-error>
          <ErrorNotice error={error} title="Not deleted" />
          {users.length > 0 && (
            <ul class="plain">
              {users.map((user) => (
                <li key={`${user.kind}:${user.id}`}>
                  {user.kind}{' '}
                  <Link
                    href={`/${user.kind === 'journey' ? 'journeys' : 'segments'}/${encodeURIComponent(user.id)}`}
                  >
                    {user.name}
                  </Link>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  )
}
