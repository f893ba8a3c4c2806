import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  executeLocalD1,
  freePort,
  startLocalStack,
  startOnCurrentState,
} from '../../scripts/local-stack.ts'

const folders: string[] = []

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })))
})

describe('npm start on a state kept from earlier runs', () => {
  it('moves a state built by older migrations aside, keeps it, and starts on a fresh one', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cairn-state-'))
    folders.push(folder)
    const persistTo = join(folder, 'state')
    const port = await freePort()
    // A state whose migrations were recorded as applied when they created fewer tables.
    const old = await startLocalStack({ port, persistTo })
    await old.stop()
    executeLocalD1(persistTo, 'DROP TABLE touches; DROP TABLE conversion_definitions')

    const stack = await startOnCurrentState({ port, persistTo })
    try {
      expect(stack.missingTables?.sort()).toEqual(['conversion_definitions', 'touches'])
      expect(stack.movedAside).toMatch(/state-outdated-/)
      expect(await readdir(folder)).toEqual(
        expect.arrayContaining(['state', stack.movedAside!.split('/').pop()]),
      )
      const kept = executeLocalD1<{ name: string }>(
        stack.movedAside!,
        "SELECT name FROM sqlite_master WHERE name = 'sources'",
      )
      expect(kept).toHaveLength(1)
      const conversions = await fetch(`${stack.url}/api/attribution/conversions`, {
        headers: { Authorization: `Bearer ${stack.adminKey}` },
      })
      expect(conversions.status).toBe(200)
    } finally {
      await stack.stop()
    }
  })

  it('starts on a current state as it is', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'cairn-state-'))
    folders.push(folder)
    const persistTo = join(folder, 'state')
    const port = await freePort()
    const first = await startLocalStack({ port, persistTo })
    const created = await fetch(`${first.url}/api/sources`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${first.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Kept' }),
    })
    expect(created.status).toBe(201)
    await first.stop()

    const again = await startOnCurrentState({ port, persistTo, adminKey: first.adminKey })
    try {
      expect(again.movedAside).toBeUndefined()
      const sources = await fetch(`${again.url}/api/sources`, {
        headers: { Authorization: `Bearer ${again.adminKey}` },
      })
      const { items } = (await sources.json()) as { items: { name: string }[] }
      expect(items.map((source) => source.name)).toContain('Kept')
      expect(await readdir(folder)).toEqual(['state'])
    } finally {
      await again.stop()
    }
  })
})
