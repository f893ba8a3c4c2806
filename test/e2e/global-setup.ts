import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { freePort, startLocalStack } from '../../scripts/local-stack.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    stackUrl: string
    adminKey: string
  }
}

/** One local stack (wrangler dev on fresh state) for every end-to-end test file. */
export default async function setup(project: TestProject) {
  const persistTo = await mkdtemp(join(tmpdir(), 'cairn-e2e-'))
  const stack = await startLocalStack({ port: await freePort(), persistTo })
  project.provide('stackUrl', stack.url)
  project.provide('adminKey', stack.adminKey)
  return async () => {
    await stack.stop()
    await rm(persistTo, { recursive: true, force: true })
  }
}
