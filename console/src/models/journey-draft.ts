import { computed, createModel, signal } from '@preact/signals'
import type { Entry, JourneyDefinition, Reentry } from '../../../domain/journeys/definition'
import type { Duration } from '../../../domain/segments/rule'

/**
 * The editor's draft: a definition being changed before it is saved as a new version. The graph
 * comes from the canvas whole; entry, reentry, goal, exitWhen and start from the form. Rules and
 * conditions are typed as JSON: their text is kept as typed, and a text that does not parse is a
 * problem named by its field, which blocks saving (the API checks the rest).
 */

export type EntryKind = 'event' | 'segment' | 'api'

/** An empty journey: entered through the API, one exit node. */
export const BLANK: JourneyDefinition = {
  entry: { api: true },
  reentry: 'never',
  start: 'exit1',
  nodes: { exit1: { type: 'exit' } },
}

function pretty(value: unknown) {
  return value === undefined ? '' : JSON.stringify(value, null, 2)
}

/** JSON text → value; '' is "none". */
function parse(text: string): { value: unknown } | { error: string } {
  if (text.trim() === '') return { value: undefined }
  try {
    return { value: JSON.parse(text) as unknown }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}

export const JourneyDraftModel = createModel(() => {
  const draft = signal<JourneyDefinition>(BLANK, { name: 'draft.definition' })
  /** The version the draft started from; null for a blank journey. */
  const base = signal<number | null>(null, { name: 'draft.base' })
  /** JSON texts by field: `entry.where`, `goal.where`, `exitWhen`. */
  const texts = signal<Record<string, string>>({}, { name: 'draft.texts' })
  const jsonErrors = computed(() => {
    const errors: Record<string, string> = {}
    for (const [field, text] of Object.entries(texts.value)) {
      const parsed = parse(text)
      if ('error' in parsed) errors[field] = parsed.error
    }
    return errors
  })

  function update(change: (d: JourneyDefinition) => JourneyDefinition) {
    draft.value = change(draft.value)
  }

  return {
    draft,
    base,
    texts,
    jsonErrors,
    /** Starts over from a saved definition (or a blank one). */
    reset(definition: JourneyDefinition, version: number | null) {
      draft.value = definition
      base.value = version
      const entry = definition.entry
      texts.value = {
        'entry.where': pretty('event' in entry ? entry.where : undefined),
        'goal.where': pretty(definition.goal?.where),
        exitWhen: pretty(definition.exitWhen),
      }
    },
    /** The canvas's edit of the graph. */
    replace(definition: JourneyDefinition) {
      draft.value = definition
    },
    setEntryKind(kind: EntryKind) {
      const entries: Record<EntryKind, Entry> = {
        event: { event: '' },
        segment: { segment: '', on: 'enter' },
        api: { api: true },
      }
      update((d) => ({ ...d, entry: entries[kind] }))
      texts.value = { ...texts.value, 'entry.where': '' }
    },
    setEntry(entry: Entry) {
      update((d) => ({ ...d, entry }))
    },
    setReentry(reentry: Reentry) {
      update((d) => ({ ...d, reentry }))
    },
    /** `performed` '' removes the goal. */
    setGoal(performed: string, within: Duration | undefined) {
      update((d) => {
        const { goal, ...rest } = d
        if (performed === '') return rest
        return {
          ...rest,
          goal: {
            performed,
            ...(goal?.where ? { where: goal.where } : {}),
            ...(within ? { within } : {}),
          },
        }
      })
    },
    setStart(start: string) {
      update((d) => ({ ...d, start }))
    },
    setText(field: 'entry.where' | 'goal.where' | 'exitWhen', text: string) {
      texts.value = { ...texts.value, [field]: text }
    },
    /** The definition to save, with the JSON fields as parsed; null while one does not parse. */
    definition(): JourneyDefinition | null {
      if (Object.keys(jsonErrors.value).length > 0) return null
      const value = (field: string) => {
        const parsed = parse(texts.value[field] ?? '')
        return 'value' in parsed ? parsed.value : undefined
      }
      const { exitWhen: _, ...d } = draft.value
      const where = value('entry.where')
      const goalWhere = value('goal.where')
      const exitWhen = value('exitWhen')
      const entry =
        'event' in d.entry
          ? { event: d.entry.event, ...(where !== undefined ? { where } : {}) }
          : d.entry
      const goal = d.goal && {
        performed: d.goal.performed,
        ...(goalWhere !== undefined ? { where: goalWhere } : {}),
        ...(d.goal.within ? { within: d.goal.within } : {}),
      }
      return {
        ...d,
        entry,
        ...(goal ? { goal } : {}),
        ...(exitWhen !== undefined ? { exitWhen } : {}),
      } as JourneyDefinition
    },
  }
})

export type JourneyDraftModel = InstanceType<typeof JourneyDraftModel>
