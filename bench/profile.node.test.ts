import { describe, expect, it } from 'vitest'
import { timeEntered, type CpuProfile } from './profile.ts'
import { inContactObject } from './segments-live.ts'

/** A profile whose frames name their files directly (no bundle, no source map). */
function profileOf(stacks: { path: string[]; ms: number }[]): CpuProfile {
  const nodes: CpuProfile['nodes'] = [{ id: 1, callFrame: frame('(root)', '') }]
  const samples: number[] = []
  const timeDeltas: number[] = []
  for (const { path, ms } of stacks) {
    let parent = nodes[0]!
    for (const url of path) {
      const name = url.startsWith('(') ? url : 'fn'
      let child = (parent.children ?? [])
        .map((id) => nodes.find((n) => n.id === id)!)
        .find(
          (n) =>
            n.callFrame.url === (url.startsWith('(') ? '' : url) &&
            n.callFrame.functionName === name,
        )
      if (!child) {
        child = { id: nodes.length + 1, callFrame: frame(name, url.startsWith('(') ? '' : url) }
        nodes.push(child)
        parent.children = [...(parent.children ?? []), child.id]
      }
      parent = child
    }
    samples.push(parent.id)
    timeDeltas.push(ms * 1000)
  }
  return { nodes, samples, timeDeltas, startTime: 0, endTime: 0 }
}

function frame(functionName: string, url: string) {
  return { functionName, url, lineNumber: 0, columnNumber: 0 }
}

describe('timeEntered', () => {
  it('counts a sample by the outermost frame of Cairn code on its stack', () => {
    const profile = profileOf([
      // The Worker calling the contact's stub: entered in edge/, not in an object.
      { path: ['edge/routes/ingest.ts', 'durable/contact-client.ts'], ms: 3 },
      // An object's RPC method, down into the domain and a library.
      {
        path: ['durable/contact-do.ts', 'domain/segments/evaluate.ts', 'node_modules/zod/x.js'],
        ms: 5,
      },
      // An awaited continuation in an object's helper: its stack starts there.
      { path: ['durable/outbox.ts'], ms: 2 },
      // Another object class, and the queue consumer.
      { path: ['durable/identity-directory.ts'], ms: 7 },
      { path: ['edge/queue/consumer.ts'], ms: 11 },
      { path: ['(idle)'], ms: 100 },
      { path: ['(garbage collector)'], ms: 1 },
    ])
    expect(timeEntered(profile, inContactObject)).toEqual({ busyMs: 29, enteredMs: 7 })
  })
})
