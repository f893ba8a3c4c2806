import type { MessageStatus, TemplateKind } from '../../../contracts/messaging'

/**
 * The template editor's pure part: the draft as typed, what a save sends, and where the API's
 * errors belong in the form. No platform or request code, so it is tested on its own.
 */

/** An API error as far as the form needs it (`ApiError` is one). */
export interface ApiProblem {
  code: string
  message: string
  details?: unknown
}

/** A row of `GET /api/templates`, and `GET /api/templates/:id`. */
export interface Template {
  id: string
  name: string
  subject: string
  html: string
  /** null: made from the HTML when sending. */
  text: string | null
  kind: TemplateKind
  group: string | null
  layout: string | null
  createdAt: string
  updatedAt: string
}

/** What the editor holds: the saved template's fields as typed, text empty for "from the HTML". */
export interface TemplateDraft {
  name: string
  kind: TemplateKind
  subject: string
  html: string
  text: string
  layout: string
}

export type DraftField = keyof TemplateDraft

/** `POST /api/templates/:id/preview`: the template as it would be sent to one contact. */
export interface RenderedPreview {
  subject: string
  html: string
  text: string
}

/** Where a template does not parse (`template_invalid`): the part and the place in it. */
export interface TemplateProblem {
  part: 'subject' | 'html' | 'text' | 'snippet'
  line: number | null
  column: number | null
  snippet?: string
}

/** `POST /api/messages/send`. */
export interface SendResult {
  id: string
  status: MessageStatus
  reason: string | null
  dueAt: string | null
}

export interface Snippet {
  name: string
  body: string
  updatedAt: string
}

export const EMPTY_DRAFT: TemplateDraft = {
  name: '',
  kind: 'marketing',
  subject: '',
  html: '',
  text: '',
  layout: '',
}

export function draftOf(template: Template): TemplateDraft {
  return {
    name: template.name,
    kind: template.kind,
    subject: template.subject,
    html: template.html,
    text: template.text ?? '',
    layout: template.layout ?? '',
  }
}

/** A Liquid error's place, when the API named one. */
export function problemOf(error: ApiProblem | undefined): TemplateProblem | undefined {
  if (error?.code !== 'template_invalid') return undefined
  const details = error.details as Partial<TemplateProblem> | undefined
  if (!details?.part) return undefined
  return {
    part: details.part,
    line: details.line ?? null,
    column: details.column ?? null,
    ...(details.snippet !== undefined ? { snippet: details.snippet } : {}),
  }
}

export const DRAFT_FIELDS: readonly DraftField[] = [
  'name',
  'kind',
  'subject',
  'html',
  'text',
  'layout',
]

/**
 * A save's error as messages per field: the 400's issues by the field they name, a Liquid
 * error at its part, a taken id at the name. What names no field is left to the form's notice.
 */
export function fieldErrorsOf(error: ApiProblem | undefined): Partial<Record<DraftField, string>> {
  if (!error) return {}
  if (error.code === 'template_exists') return { name: error.message }
  const problem = problemOf(error)
  if (problem && problem.part !== 'snippet') return { [problem.part]: error.message }
  const issues = (error.details as { issues?: { path: string; message: string }[] } | undefined)
    ?.issues
  const found: Partial<Record<DraftField, string>> = {}
  for (const issue of issues ?? []) {
    const field = DRAFT_FIELDS.find(
      (name) => issue.path === name || issue.path.startsWith(`${name}.`),
    )
    if (field && !found[field]) found[field] = issue.message
  }
  return found
}

/** The body of a create (every field) or an update (the fields that changed). */
export function changesOf(
  draft: TemplateDraft,
  saved: TemplateDraft | undefined,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: draft.name,
    kind: draft.kind,
    subject: draft.subject,
    html: draft.html,
    text: draft.text === '' ? null : draft.text,
    layout: draft.layout === '' ? null : draft.layout,
  }
  if (!saved) {
    if (body.text === null) delete body.text
    if (body.layout === null) delete body.layout
    return body
  }
  for (const field of DRAFT_FIELDS) if (draft[field] === saved[field]) delete body[field]
  return body
}
