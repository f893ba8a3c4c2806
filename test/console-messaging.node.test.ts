import { describe, expect, it } from 'vitest'
import {
  durationParts,
  issuesOf,
  providerChangeOf,
  providerRowOf,
  type MessagingProvider,
} from '../console/src/models/messaging-config'
import {
  EMPTY_DRAFT,
  changesOf,
  fieldErrorsOf,
  problemOf,
  type TemplateDraft,
} from '../console/src/models/template-draft'

/** The console's template editor and messaging settings: what they send and how they read errors. */

/** As the console's `ApiError` carries the API's `{ error: { code, message, details } }`. */
function apiError(status: number, code: string, message: string, details?: unknown) {
  return { status, code, message, details }
}

const draft: TemplateDraft = {
  name: 'Welcome',
  kind: 'marketing',
  subject: 'Hi {{ contact.traits.firstName }}',
  html: '<p>Hi</p>',
  text: '',
  layout: '',
}

describe('the template editor', () => {
  it('creates with every field given, leaving out an empty text part and layout', () => {
    expect(changesOf(draft, undefined)).toEqual({
      name: 'Welcome',
      kind: 'marketing',
      subject: 'Hi {{ contact.traits.firstName }}',
      html: '<p>Hi</p>',
    })
    expect(changesOf({ ...draft, text: 'Hi', layout: 'base' }, undefined)).toMatchObject({
      text: 'Hi',
      layout: 'base',
    })
  })

  it('updates only what changed; an emptied text part or layout becomes null', () => {
    const saved = { ...draft, text: 'Plain', layout: 'base' }
    expect(changesOf(saved, saved)).toEqual({})
    expect(changesOf({ ...saved, subject: 'New', text: '', layout: '' }, saved)).toEqual({
      subject: 'New',
      text: null,
      layout: null,
    })
    expect(changesOf(EMPTY_DRAFT, undefined)).toMatchObject({ name: '', kind: 'marketing' })
  })

  it("places a save's errors at their fields", () => {
    const invalid = apiError(400, 'invalid_request', 'Invalid request: subject: too short', {
      issues: [
        { path: 'subject', message: 'too short' },
        { path: 'layout', message: 'lower-case letters' },
        { path: 'subject', message: 'second problem' },
        { path: '(root)', message: 'give at least one field' },
      ],
    })
    expect(fieldErrorsOf(invalid)).toEqual({ subject: 'too short', layout: 'lower-case letters' })
    const taken = apiError(409, 'template_exists', 'There is already a template welcome')
    expect(fieldErrorsOf(taken)).toEqual({ name: 'There is already a template welcome' })
    const liquid = apiError(400, 'template_invalid', 'html, line 2, column 7: not closed', {
      part: 'html',
      line: 2,
      column: 7,
    })
    expect(fieldErrorsOf(liquid)).toEqual({ html: 'html, line 2, column 7: not closed' })
    expect(problemOf(liquid)).toEqual({ part: 'html', line: 2, column: 7 })
    // A broken snippet is no field of the template: the form's notice says it.
    const inSnippet = apiError(400, 'template_invalid', 'snippet', {
      part: 'snippet',
      line: 1,
      column: 1,
      snippet: 'footer',
    })
    expect(fieldErrorsOf(inSnippet)).toEqual({})
    expect(fieldErrorsOf(apiError(0, 'network', 'offline'))).toEqual({})
    expect(fieldErrorsOf(undefined)).toEqual({})
  })
})

describe('the messaging settings', () => {
  it('shows a duration as one amount of its largest whole unit', () => {
    expect(durationParts({ days: 2 })).toEqual({ amount: 2, unit: 'days' })
    expect(durationParts({ hours: 48 })).toEqual({ amount: 2, unit: 'days' })
    expect(durationParts({ days: 1, hours: 12 })).toEqual({ amount: 36, unit: 'hours' })
    expect(durationParts({ hours: 1, minutes: 30 })).toEqual({ amount: 90, unit: 'minutes' })
    expect(durationParts({})).toEqual({ amount: 0, unit: 'minutes' })
  })

  it('sends each provider with the fields filled in, never a stored secret', () => {
    const stored: MessagingProvider = {
      kind: 'postmark',
      baseUrl: 'https://api.postmarkapp.com',
      messageStream: 'outbound',
      credentials: { serverToken: 'set' },
      health: { state: 'closed', failures: 0, openUntil: null },
    }
    const row = providerRowOf(stored)
    expect(row).toEqual({
      kind: 'postmark',
      values: { baseUrl: 'https://api.postmarkapp.com', messageStream: 'outbound' },
      stored: ['serverToken'],
      health: stored.health,
    })
    const added = { kind: 'resend' as const, values: { apiKey: ' re_123456789 ', baseUrl: '' } }
    expect(
      providerChangeOf([row, { ...added, stored: [] }, { kind: 'log', values: {}, stored: [] }]),
    ).toEqual([
      {
        kind: 'postmark',
        baseUrl: 'https://api.postmarkapp.com',
        messageStream: 'outbound',
      },
      { kind: 'resend', apiKey: 're_123456789' },
      { kind: 'log' },
    ])
  })

  it("reads a 400's issues by path, the first per path", () => {
    const error = apiError(400, 'invalid_request', 'Invalid request', {
      issues: [
        { path: '[0].apiKey', message: 'required' },
        { path: '[0].apiKey', message: 'again' },
        { path: 'quietHours', message: 'start and end must differ' },
      ],
    })
    expect(issuesOf(error)).toEqual({
      '[0].apiKey': 'required',
      quietHours: 'start and end must differ',
    })
    expect(issuesOf(undefined)).toEqual({})
  })
})
