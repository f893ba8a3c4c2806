import { problemOf, type TemplateEditorModel } from '../../models/templates'
import { ErrorNotice, Loading } from '../common'

/**
 * The template as the chosen contact would get it, rendered by the API from the unsaved draft.
 * The HTML is the contact's traits in the author's markup: untrusted, so it is shown only as a
 * document of its own in an iframe whose empty sandbox removes scripts, forms, navigation and
 * the console's origin (as views/messages.tsx does for sent emails).
 */
export function TemplatePreview({ model }: { model: TemplateEditorModel }) {
  const { preview } = model
  const blocked = model.previewBlocked.value
  const error = preview.error.value
  const rendered = preview.data.value
  const problem = problemOf(error)
  return (
    <section
      class="panel template-preview"
      aria-labelledby="preview-title"
      aria-busy={preview.loading.value}
      data-preview
    >
      <h2 id="preview-title">
        Preview {preview.loading.value && <span class="muted small">rendering…</span>}
      </h2>
      {blocked ? (
        <p class="muted" data-preview-blocked>
          {blocked}
        </p>
      ) : error ? (
        problem ? (
          <div class="state error" role="alert" data-preview-error>
            <strong>Liquid error</strong>
            <span>{error.message}</span>
          </div>
        ) : (
          <ErrorNotice error={error} title="The preview could not be rendered" />
        )
      ) : rendered ? (
        <>
          <p class="preview-subject">
            <span class="muted small">Subject</span>{' '}
            <strong data-preview-subject>{rendered.subject}</strong>
          </p>
          <iframe
            sandbox=""
            srcdoc={rendered.html}
            class="email-html preview-html"
            title="HTML preview of the template"
            referrerpolicy="no-referrer"
          />
          <h4>Text part</h4>
          <pre class="email-text preview-text" data-preview-text>
            {rendered.text}
          </pre>
        </>
      ) : (
        <Loading label="Rendering the preview…" />
      )}
    </section>
  )
}
