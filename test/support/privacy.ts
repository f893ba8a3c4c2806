import { env } from 'cloudflare:test'
import { expect } from 'vitest'
import { api, eventually } from './api'

export interface Erasure {
  id: string
  status: string
  receipt: {
    matched: boolean
    summary: string
    contacts: number
    identifiers: number
    stores: { store: string; removed: Record<string, number> }[]
  } | null
}

/** Requests an erasure through the API and waits until it has completed. */
export async function erase(body: Record<string, string>): Promise<Erasure> {
  const response = await api('/api/privacy/erasure', { method: 'POST', json: body })
  expect(response.status).toBe(202)
  const { id } = (await response.json()) as { id: string }
  return eventually(async () => {
    const status = (await (await api(`/api/privacy/erasure/${id}`)).json()) as Erasure
    return status.status === 'completed' ? status : undefined
  }, 15_000)
}

/** Every row of every D1 table, as text, to search for identifiers. */
export async function dumpD1(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite%' AND name != 'd1_migrations'",
  ).all<{ name: string }>()
  const parts: string[] = []
  for (const { name } of tables.results) {
    parts.push(
      `${name}: ${JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)}`,
    )
  }
  return parts.join('\n')
}
