import { useModel } from '@preact/signals'
import type { ComponentChildren } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { href, navigate, route, setQuery } from '../../models/router'
import { session } from '../../models/session'
import {
  TEMPLATE_KINDS,
  TemplateEditorModel,
  mayEditTemplates,
  problemOf,
  type DraftField,
  type TemplateKind,
} from '../../models/templates'
import { ErrorNotice, Link, Loading, PageHeader } from '../common'
import { when } from '../format'
import { MessageStatusBadge, messageHref } from '../messages'
import { ContactPicker } from './contact-picker'
import { templateHref } from './list'
import { TemplatePreview } from './preview'

/** `/templates/new` and `/templates/:id`; mounted with `key={id}`, one model per template. */
export function TemplateEditor({ id }: { id: string | null }) {
  const model = useModel(() => new TemplateEditorModel(id))
  const contact = route.query.value.get('contact')?.trim() ?? ''
  useEffect(() => {
    void model.load()
  }, [model])
  useEffect(() => model.chooseContact(contact), [contact])

  const saved = model.saved.data.value
  const title = id === null ? 'New template' : (saved?.name ?? id)
  const breadcrumb = (
    <p class="breadcrumb">
      <Link href="/templates">Templates</Link> <span aria-hidden="true">/</span>{' '}
      <span class="mono">{id ?? 'new'}</span>
    </p>
  )
  if (id !== null && !saved) {
    const error = model.saved.error.value
    return (
      <>
        {breadcrumb}
        <PageHeader title={title} />
        {error ? (
          <ErrorNotice
            error={error}
            title={error.status === 404 ? 'No such template' : undefined}
            retry={() => void model.load()}
          />
        ) : (
          <Loading label="Loading template…" />
        )}
      </>
    )
  }
  return (
    <>
      {breadcrumb}
      <PageHeader title={title} />
      <div class="template-editor">
        <TemplateForm model={model} contact={contact} />
        <div class="stack">
          <section class="panel" aria-label="Preview contact">
            <ContactPicker chosen={contact} onChoose={(key) => setQuery({ contact: key })} />
          </section>
          <TemplatePreview model={model} />
          {saved && mayEditTemplates(session.role.value) && (
            <>
              <TestSend model={model} contact={contact} />
              <SubjectSuggestions model={model} />
            </>
          )}
        </div>
      </div>
    </>
  )
}

function TemplateForm({ model, contact }: { model: TemplateEditorModel; contact: string }) {
  const canEdit = mayEditTemplates(session.role.value)
  const draft = model.draft.value
  const saved = model.saved.data.value
  const errors = model.fieldErrors.value
  const problem = problemOf(model.preview.error.value)
  const saveError = model.save.error.value
  const unplaced = saveError && Object.keys(errors).length === 0
  const [confirming, setConfirming] = useState(false)

  /** A save's error for the field, or where the preview found a Liquid error in it. */
  const errorFor = (field: DraftField) =>
    errors[field] ??
    (problem?.part === field && problem.line !== null
      ? `Liquid error at line ${problem.line}, column ${problem.column}`
      : undefined)

  async function save() {
    const template = await model.submit()
    if (template && !saved) {
      navigate(href(templateHref(template.id), { contact }), { replace: true })
    }
  }

  async function remove() {
    if (await model.delete()) navigate('/templates')
  }

  return (
    <form
      class="panel form template-form"
      aria-label="Template"
      onSubmit={(event) => {
        event.preventDefault()
        if (canEdit) void save()
      }}
    >
      <div class="toolbar">
        {canEdit ? (
          <button type="submit" class="primary" disabled={model.save.loading.value}>
            {model.save.loading.value ? 'Saving…' : saved ? 'Save' : 'Create template'}
          </button>
        ) : (
          <span class="muted small">Your role can preview templates but not change them.</span>
        )}
        <span class="muted small" aria-live="polite" data-save-state>
          {model.dirty.value ? 'Unsaved changes' : saved ? `Saved ${when(saved.updatedAt)}` : ''}
        </span>
        {canEdit && saved && (
          <span class="push toolbar">
            {confirming ? (
              <>
                <span class="small">Delete “{saved.name}”?</span>
                <button
                  type="button"
                  class="danger"
                  disabled={model.remove.loading.value}
                  onClick={() => void remove()}
                >
                  Delete
                </button>
                <button type="button" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button type="button" class="danger" onClick={() => setConfirming(true)}>
                Delete…
              </button>
            )}
          </span>
        )}
      </div>
      {unplaced && <ErrorNotice error={saveError} title="Not saved" />}
      {model.remove.error.value && (
        <ErrorNotice error={model.remove.error.value} title="Not deleted" />
      )}
      <div class="form-row">
        <Field label="Name" field="name" error={errorFor('name')} class="grow">
          <input
            value={draft.name}
            required
            maxLength={200}
            onInput={(e) => model.edit({ name: e.currentTarget.value })}
            {...invalid('name', errorFor('name'))}
          />
        </Field>
        <Field label="Kind" field="kind" error={errorFor('kind')}>
          <select
            value={draft.kind}
            onChange={(e) => model.edit({ kind: e.currentTarget.value as TemplateKind })}
            {...invalid('kind', errorFor('kind'))}
          >
            {TEMPLATE_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {kind}
              </option>
            ))}
          </select>
        </Field>
        <LayoutField model={model} error={errorFor('layout')} />
      </div>
      <p class="muted small kind-note">
        {draft.kind === 'marketing'
          ? 'Marketing: sent only to contacts who gave marketing consent and did not unsubscribe; frequency caps and quiet hours apply.'
          : 'Transactional: receipts and account mail, sent whatever the marketing consent.'}
      </p>
      <Field label="Subject" field="subject" error={errorFor('subject')}>
        <input
          class="mono"
          value={draft.subject}
          required
          spellcheck={false}
          onInput={(e) => model.edit({ subject: e.currentTarget.value })}
          {...invalid('subject', errorFor('subject'))}
        />
      </Field>
      <Field
        label="HTML body"
        field="html"
        error={errorFor('html')}
        hint="Liquid: {{ contact.traits.firstName }}, {{ event.properties.x }}, {{ data.x }}; every output is HTML-escaped."
      >
        <textarea
          class="code"
          rows={14}
          value={draft.html}
          required
          spellcheck={false}
          onInput={(e) => model.edit({ html: e.currentTarget.value })}
          {...invalid('html', errorFor('html'))}
        />
      </Field>
      <Field
        label="Text body"
        field="text"
        error={errorFor('text')}
        hint="Left empty, the text part is made from the HTML."
      >
        <textarea
          class="code"
          rows={6}
          value={draft.text}
          spellcheck={false}
          onInput={(e) => model.edit({ text: e.currentTarget.value })}
          {...invalid('text', errorFor('text'))}
        />
      </Field>
      <Snippets model={model} />
    </form>
  )
}

function invalid(field: DraftField, error: string | undefined) {
  return error
    ? { 'aria-invalid': true as const, 'aria-describedby': `${field}-error` }
    : { 'aria-invalid': false as const }
}

function Field({
  label,
  field,
  error,
  hint,
  class: className,
  children,
}: {
  label: string
  field: DraftField
  error: string | undefined
  hint?: string
  class?: string
  children: ComponentChildren
}) {
  return (
    <label class={className} data-field={field}>
      {label}
      {children}
      {error && (
        <span class="field-error" id={`${field}-error`} data-field-error={field}>
          {error}
        </span>
      )}
      {hint && <span class="muted small hint">{hint}</span>}
    </label>
  )
}

/** The snippet wrapping the HTML (`{% block %}` marks where it goes); none by default. */
function LayoutField({ model, error }: { model: TemplateEditorModel; error: string | undefined }) {
  const names = (model.snippets.data.value ?? []).map((s) => s.name)
  const current = model.draft.value.layout
  const options = current && !names.includes(current) ? [current, ...names] : names
  return (
    <Field label="Layout" field="layout" error={error}>
      <select
        value={current}
        onChange={(e) => model.edit({ layout: e.currentTarget.value })}
        {...invalid('layout', error)}
      >
        <option value="">none</option>
        {options.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </Field>
  )
}

function Snippets({ model }: { model: TemplateEditorModel }) {
  const snippets = model.snippets.data.value
  if (!snippets?.length) return null
  return (
    <p class="muted small snippets">
      Snippets: {snippets.map((s) => s.name).join(', ')}. Use one with{' '}
      <code>{"{% render 'name' %}"}</code>.
    </p>
  )
}

function TestSend({ model, contact }: { model: TemplateEditorModel; contact: string }) {
  const result = model.testSend.data.value
  const error = model.testSend.error.value
  const dirty = model.dirty.value
  const why = !contact
    ? 'Choose a contact to send a test to.'
    : dirty
      ? 'Save first: a test sends the saved template.'
      : undefined
  return (
    <section class="panel" aria-labelledby="test-send-title">
      <h2 id="test-send-title">Test send</h2>
      <div class="toolbar">
        <button
          type="button"
          disabled={Boolean(why) || model.testSend.loading.value}
          onClick={() => model.sendTest()}
        >
          {model.testSend.loading.value ? 'Sending…' : contact ? `Send to ${contact}` : 'Send'}
        </button>
        {why && <span class="muted small">{why}</span>}
      </div>
      {result && (
        <p class="test-result" role="status" data-test-send={result.id}>
          Message{' '}
          <Link class="mono" href={messageHref(result.id)}>
            {result.id}
          </Link>{' '}
          <MessageStatusBadge status={result.status} />
          {result.reason && <span class="muted small"> {result.reason}</span>}
        </p>
      )}
      {error && <ErrorNotice error={error} title="Not sent" />}
    </section>
  )
}

function SubjectSuggestions({ model }: { model: TemplateEditorModel }) {
  const { suggestions } = model
  const error = suggestions.error.value
  const items = suggestions.data.value
  return (
    <section class="panel" aria-labelledby="suggestions-title">
      <h2 id="suggestions-title">Subject ideas</h2>
      <div class="toolbar">
        <button
          type="button"
          disabled={suggestions.loading.value}
          onClick={() => model.suggestSubjects()}
        >
          {suggestions.loading.value ? 'Asking…' : 'Suggest subjects'}
        </button>
        <span class="muted small">For the saved subject, by Workers AI.</span>
      </div>
      {error &&
        (error.code === 'ai_unavailable' ? (
          <p class="notice small" data-suggestions-unavailable>
            {error.message}
          </p>
        ) : (
          <ErrorNotice error={error} title="No suggestions" />
        ))}
      {items && !error && (
        <ul class="plain suggestions" data-suggestions>
          {items.length === 0 && <li class="muted small">The model suggested nothing.</li>}
          {items.map((subject) => (
            <li key={subject}>
              <span>{subject}</span>{' '}
              <button
                type="button"
                class="link-button small"
                onClick={() => model.edit({ subject })}
              >
                Use
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
