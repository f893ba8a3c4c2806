import { computed, createModel, effect, signal } from '@preact/signals'
import { allowed } from '../../../edge/access/permissions'
import type { Role } from './access'
import { api, segment, type ApiList } from './api'
import type { ContactSummary } from './contacts'
import { pagedList } from './pages'
import { request } from './request'

export { TEMPLATE_KINDS, type TemplateKind } from '../../../contracts/messaging'

import {
  DRAFT_FIELDS,
  EMPTY_DRAFT,
  changesOf,
  draftOf,
  fieldErrorsOf,
  type RenderedPreview,
  type SendResult,
  type Snippet,
  type Template,
  type TemplateDraft,
} from './template-draft'

export * from './template-draft'

/** Typing pauses this long before the preview is asked for again. */
export const PREVIEW_DELAY_MS = 400
const SEARCH_DELAY_MS = 250
const PAGE = 50

/** Who may change templates (and send a test); anyone who reads them may preview. */
export function mayEditTemplates(role: Role | undefined): boolean {
  return role !== undefined && allowed('POST /api/templates', role)
}

/** The template list, newest first, paged with the API's cursor. */
export const TemplateListModel = createModel(() => {
  const list = pagedList<Template>('templates', (after) =>
    api<ApiList<Template>>('/templates', { query: { limit: PAGE, cursor: after } }),
  )
  return {
    items: list.items,
    cursor: list.cursor,
    more: list.more,
    load: list.reload,
    loadMore: list.loadMore,
  }
})

export const templateList = new TemplateListModel()

/** Contacts to preview with: a search by id, email or trait. */
export const ContactPickerModel = createModel(() => {
  const query = signal('', { name: 'templates.contactQuery' })
  const results = request<ContactSummary[]>('templates.contactResults')
  let timer: ReturnType<typeof setTimeout> | undefined

  function search(q: string) {
    query.value = q
    clearTimeout(timer)
    if (!q.trim()) {
      results.reset()
      return
    }
    timer = setTimeout(() => {
      void results.run(async () => {
        const page = await api<ApiList<ContactSummary>>('/contacts', {
          query: { q: q.trim(), limit: 8 },
        })
        return page.items
      })
    }, SEARCH_DELAY_MS)
  }

  return {
    query,
    results,
    search,
    clear() {
      clearTimeout(timer)
      query.value = ''
      results.reset()
    },
  }
})

/**
 * One template's editor (`id` null for a new one): the draft as typed, a live preview for the
 * chosen contact rendered by the API a moment after typing stops, save, delete, a test send
 * and subject suggestions.
 */
export const TemplateEditorModel = createModel((id: string | null) => {
  const saved = request<Template>('template.saved')
  const draft = signal<TemplateDraft>(EMPTY_DRAFT, { name: 'template.draft' })
  const contactId = signal('', { name: 'template.contactId' })
  const preview = request<RenderedPreview>('template.preview')
  const save = request<Template>('template.save')
  const remove = request<Template>('template.remove')
  const testSend = request<SendResult>('template.testSend')
  const suggestions = request<string[]>('template.suggestions')
  const snippets = request<Snippet[]>('template.snippets')

  const savedDraft = computed(() => {
    const template = saved.data.value
    return template ? draftOf(template) : undefined
  })
  const dirty = computed(() => {
    const base = savedDraft.value ?? EMPTY_DRAFT
    return DRAFT_FIELDS.some((field) => draft.value[field] !== base[field])
  })
  const fieldErrors = computed(() => fieldErrorsOf(save.error.value))
  /** Why no preview is asked for, or undefined when one can be. */
  const previewBlocked = computed(() => {
    if (!contactId.value) return 'Choose a contact to preview the template with their data.'
    if (!draft.value.subject.trim() || !draft.value.html.trim())
      return 'Write a subject and an HTML body to see the preview.'
    return undefined
  })

  async function renderPreview() {
    if (previewBlocked.peek()) {
      preview.reset()
      return
    }
    const { subject, html, text, layout } = draft.peek()
    const body = {
      contactId: contactId.peek(),
      draft: { subject, html, text: text || null, layout: layout || null },
    }
    const current = saved.data.peek()?.id
    const path = current ? `/templates/${segment(current)}/preview` : '/templates/preview'
    await preview.run(() => api<RenderedPreview>(path, { method: 'POST', body }))
  }

  // Every change of the draft or the contact asks for a preview once typing pauses; the model
  // owns the effect, so it stops with the editor.
  effect(() => {
    void draft.value
    void contactId.value
    const timer = setTimeout(() => void renderPreview(), PREVIEW_DELAY_MS)
    return () => clearTimeout(timer)
  })

  return {
    saved,
    draft,
    contactId,
    preview,
    previewBlocked,
    save,
    remove,
    testSend,
    suggestions,
    snippets,
    dirty,
    fieldErrors,
    async load() {
      void snippets.run(async () => (await api<ApiList<Snippet>>('/snippets')).items)
      if (id === null) return
      const template = await saved.run(() => api<Template>(`/templates/${segment(id)}`))
      if (template) draft.value = draftOf(template)
    },
    edit(patch: Partial<TemplateDraft>) {
      draft.value = { ...draft.peek(), ...patch }
    },
    chooseContact(key: string) {
      if (key === contactId.peek()) return
      contactId.value = key
      testSend.reset()
    },
    /** Creates or updates; answers the template as saved, or undefined (see `save.error`). */
    async submit(): Promise<Template | undefined> {
      const current = saved.data.peek()
      const body = changesOf(draft.peek(), savedDraft.peek())
      if (current && Object.keys(body).length === 0) return current
      const template = await save.run(() =>
        current
          ? api<Template>(`/templates/${segment(current.id)}`, { method: 'PUT', body })
          : api<Template>('/templates', { method: 'POST', body }),
      )
      if (template) saved.set(template)
      return template
    },
    async delete(): Promise<boolean> {
      const current = saved.data.peek()
      if (!current) return false
      const deleted = await remove.run(() =>
        api<Template>(`/templates/${segment(current.id)}`, { method: 'DELETE' }),
      )
      if (!deleted) return false
      // The list shows its copy while it reads again: without this template.
      const listed = templateList.items.data.peek()
      if (listed) templateList.items.set(listed.filter((t) => t.id !== deleted.id))
      return true
    },
    /** Sends the saved template to the chosen contact, as the transactional API does. */
    sendTest() {
      const current = saved.data.peek()
      if (!current || !contactId.peek()) return
      void testSend.run(() =>
        api<SendResult>('/messages/send', {
          method: 'POST',
          body: { contactId: contactId.peek(), template: current.id },
        }),
      )
    },
    /** Alternatives to the saved subject (Workers AI; `ai_unavailable` when not bound). */
    suggestSubjects() {
      const current = saved.data.peek()
      if (!current) return
      void suggestions.run(async () => {
        const answer = await api<{ suggestions: string[] }>(
          `/templates/${segment(current.id)}/subject-suggestions`,
          { method: 'POST' },
        )
        return answer.suggestions
      })
    },
  }
})

export type TemplateEditorModel = InstanceType<typeof TemplateEditorModel>
