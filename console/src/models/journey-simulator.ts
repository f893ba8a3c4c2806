import { createModel, signal } from '@preact/signals'
import { EXAMPLE_SCRIPT, scriptInput, type Script, type ScriptedEvent } from './journey-script'
import type { SimulationInput } from './journeys'

/** The simulator's script as the form edits it; kept across visits to the simulator. */
export const SimulatorModel = createModel(() => {
  const script = signal<Script>(EXAMPLE_SCRIPT, { name: 'simulator.script' })
  const errors = signal<string[]>([], { name: 'simulator.errors' })
  /** The version and script last run (as in the URL), so a reload runs it once again. */
  const ran = signal<string | null>(null, { name: 'simulator.ran' })
  return {
    script,
    errors,
    ran,
    load(next: Script) {
      script.value = next
    },
    change(next: Partial<Script>) {
      script.value = { ...script.value, ...next }
    },
    setEvent(index: number, next: Partial<ScriptedEvent>) {
      script.value = {
        ...script.value,
        events: script.value.events.map((e, i) => (i === index ? { ...e, ...next } : e)),
      }
    },
    addEvent() {
      const last = script.value.events.at(-1)
      script.value = {
        ...script.value,
        events: [
          ...script.value.events,
          // Durations must be longer than 0: the first event a minute in.
          { event: '', properties: '', after: last?.after ?? { minutes: 1 } },
        ],
      }
    },
    removeEvent(index: number) {
      script.value = { ...script.value, events: script.value.events.filter((_, i) => i !== index) }
    },
    /** The body to send, or null with `errors` set. */
    input(): Omit<SimulationInput, 'version'> | null {
      const parsed = scriptInput(script.value)
      errors.value = parsed.ok ? [] : parsed.errors
      return parsed.ok ? parsed.input : null
    },
  }
})

/** Kept across visits to the simulator, so a script survives moving between tabs. */
export const simulator = new SimulatorModel()
