import { describe, expect, it } from 'vitest'
import {
  EXAMPLE_SCRIPT,
  offset,
  parseScript,
  scriptInput,
  simulationSteps,
  type Simulation,
} from '../console/src/models/journey-script.ts'

describe('the simulator script', () => {
  it('becomes the request body, properties parsed, consent given', () => {
    const parsed = scriptInput({
      ...EXAMPLE_SCRIPT,
      events: [
        { event: ' Product Added ', properties: '{"name": "Boots"}', after: { minutes: 1 } },
      ],
      until: { hours: 2 },
    })
    expect(parsed).toEqual({
      ok: true,
      input: {
        contact: {
          traits: { firstName: 'Ada', email: 'ada@example.com' },
          consent: { marketing: true },
        },
        events: [{ event: 'Product Added', properties: { name: 'Boots' }, after: { minutes: 1 } }],
        until: { hours: 2 },
      },
    })
  })

  it('names each field that is not a JSON object, and an event without a name', () => {
    const parsed = scriptInput({
      ...EXAMPLE_SCRIPT,
      traits: '[1, 2]',
      events: [{ event: '', properties: '{"name": ', after: { minutes: 1 } }],
    })
    expect(parsed.ok).toBe(false)
    expect(!parsed.ok && parsed.errors.map((e) => e.split(':')[0])).toEqual([
      'Traits',
      'Event 1',
      'Event 1 properties',
    ])
  })

  it('survives the URL, and a text that is not a script is refused', () => {
    const script = {
      ...EXAMPLE_SCRIPT,
      events: [{ event: 'X', properties: '', after: { days: 1 } }],
    }
    expect(parseScript(JSON.stringify(script))).toEqual(script)
    expect(parseScript('{"traits": 1}')).toBeNull()
    expect(parseScript('not json')).toBeNull()
    expect(
      parseScript(JSON.stringify({ ...script, until: { weeks: 1 } })),
      'an unknown unit',
    ).toBeNull()
  })
})

describe('the simulation as steps', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1) + minutes * 60_000).toISOString()
  const simulation: Simulation = {
    entered: true,
    trace: [
      { at: at(0), node: 'wait', type: 'waitFor', outcome: 'entered version 1' },
      { at: at(60), node: 'wait', type: 'waitFor', outcome: 'timed out', next: 'mail' },
      { at: at(60), node: 'mail', type: 'email', outcome: 'email reminder', next: 'mark' },
      { at: at(60), node: 'mark', type: 'updateTraits', outcome: 'traits set', next: 'mail' },
      { at: at(1500), node: 'mail', type: 'email', outcome: 'email reminder', next: 'end' },
    ],
    effects: [
      { kind: 'email', node: 'mail', at: at(60) },
      { kind: 'traits', node: 'mark', at: at(60), traits: { cart: 'left' } },
      { kind: 'email', node: 'mail', at: at(1500) },
    ],
    wouldSend: [
      { at: at(60), node: 'mail', template: 'reminder', subject: 'First' },
      { at: at(1500), node: 'mail', template: 'reminder', subject: 'Second' },
    ],
    run: null,
    contact: { traits: {}, lists: [] },
  }

  it('gives each step what its node would have sent or done at that moment, emails once', () => {
    const steps = simulationSteps(simulation)
    expect(steps.map((s) => s.emails.map((e) => e.subject))).toEqual([
      [],
      [],
      ['First'],
      [],
      ['Second'],
    ])
    expect(steps[3]!.effects).toEqual([simulation.effects[1]])
    expect(steps.flatMap((s) => s.effects).some((e) => e.kind === 'email')).toBe(false)
  })

  it('says how long after the first step each one came', () => {
    expect(offset(at(0), at(0))).toBe('+0')
    expect(offset(at(60), at(0))).toBe('+1 h')
    expect(offset(at(1500), at(0))).toBe('+1 d 1 h')
    expect(offset(at(61), at(0))).toBe('+1 h 1 min')
  })
})
