import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { executeLocalD1, freePort, startLocalStack } from '../../scripts/local-stack.ts'

const folders: string[] = []

afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })))
})

/** A stack on a state folder of its own, as `npm start` runs it, stopped once. */
async function firstRun() {
  const folder = await mkdtemp(join(tmpdir(), 'cairn-state-'))
  folders.push(folder)
  const persistTo = join(folder, 'state')
  const port = await freePort()
  const stack = await startLocalStack({ port, persistTo })
  return { folder, persistTo, port, stack }
}

describe('npm start on a state kept from earlier runs', () => {
  it('moves a state built by older migrations aside, keeps it, and starts on a fresh one', async () => {
    const { folder, persistTo, port, stack: old } = await firstRun()
    await old.stop()
    // A state whose migrations were recorded as applied when they created fewer tables.
    executeLocalD1(persistTo, 'DROP TABLE touches; DROP TABLE conversion_definitions')

    const stack = await startLocalStack({ port, persistTo, moveOutdatedState: true })
    try {
      const movedAside = stack.movedAside!
      expect(movedAside.missingTables.sort()).toEqual(['conversion_definitions', 'touches'])
      expect(movedAside.to).toMatch(/state-outdated-/)
      expect(await readdir(folder)).toEqual(
        expect.arrayContaining(['state', movedAside.to.split('/').pop()]),
      )
      const kept = executeLocalD1<{ name: string }>(
        movedAside.to,
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
    const { folder, persistTo, port, stack: first } = await firstRun()
    const created = await fetch(`${first.url}/api/sources`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${first.adminKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Kept' }),
    })
    expect(created.status).toBe(201)
    await first.stop()

    const again = await startLocalStack({
      port,
      persistTo,
      adminKey: first.adminKey,
      moveOutdatedState: true,
    })
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
