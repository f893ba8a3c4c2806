import { createModel, signal } from '@preact/signals'
import { api, asApiError, segment, type ApiError, type ApiList } from './api'
import type { Role } from './access'
import { request } from './request'

export type ConsentMode = 'opt-in' | 'opt-out'

export interface Source {
  id: string
  name: string
  writeKey: string
  allowedOrigins: string[]
  consentMode: ConsentMode
  enabled: boolean
  createdAt: string
}

export interface SecretKey {
  id: string
  name: string
  role: Role
  prefix: string
  createdAt: string
  revokedAt: string | null
}

export interface Retention {
  rawEventsDays: number
  inactiveProfileDays: number
  exportsDays: number
}

/** A write that may fail: its error, and whether it is under way. */
function mutation(name: string) {
  const busy = signal(false, { name: `${name}.busy` })
  const error = signal<ApiError | undefined>(undefined, { name: `${name}.error` })
  return {
    busy,
    error,
    async run<T>(write: () => Promise<T>): Promise<T | undefined> {
      busy.value = true
      error.value = undefined
      try {
        return await write()
      } catch (caught) {
        error.value = asApiError(caught)
        return undefined
      } finally {
        busy.value = false
      }
    },
    clear() {
      error.value = undefined
    },
  }
}

/** Tracking sources: their write keys, allowed origins and consent mode. */
export const SourcesModel = createModel(() => {
  const list = request<Source[]>('sources.list')
  const create = mutation('sources.create')
  const update = mutation('sources.update')

  async function load() {
    await list.run(async () => (await api<ApiList<Source>>('/sources')).items)
  }

  return {
    list,
    create,
    update,
    load,
    async add(input: { name: string; allowedOrigins: string[]; consentMode: ConsentMode }) {
      const created = await create.run(() =>
        api<Source>('/sources', { method: 'POST', body: input }),
      )
      if (created) list.set([...(list.data.peek() ?? []), created])
      return created
    },
    async change(id: string, patch: Partial<Omit<Source, 'id' | 'writeKey' | 'createdAt'>>) {
      const updated = await update.run(() =>
        api<Source>(`/sources/${segment(id)}`, { method: 'PATCH', body: patch }),
      )
      if (updated) list.set((list.data.peek() ?? []).map((s) => (s.id === id ? updated : s)))
      return updated
    },
  }
})

export const sources = new SourcesModel()

/** Secret keys by role; a new key's secret is shown once. */
export const KeysModel = createModel(() => {
  const list = request<SecretKey[]>('keys.list')
  const create = mutation('keys.create')
  const revoke = mutation('keys.revoke')
  const created = signal<(SecretKey & { key: string }) | undefined>(undefined, {
    name: 'keys.created',
  })

  async function load() {
    await list.run(async () => (await api<ApiList<SecretKey>>('/keys')).items)
  }

  return {
    list,
    create,
    revoke,
    created,
    load,
    async add(input: { name: string; role: Role }) {
      const key = await create.run(() =>
        api<SecretKey & { key: string }>('/keys', { method: 'POST', body: input }),
      )
      if (key) {
        created.value = key
        await load()
      }
      return key
    },
    dismissSecret() {
      created.value = undefined
    },
    async remove(id: string) {
      await revoke.run(() => api(`/keys/${segment(id)}`, { method: 'DELETE' }))
      await load()
    },
  }
})

export const keys = new KeysModel()

export const RetentionModel = createModel(() => {
  const settings = request<Retention>('retention.settings')
  const save = mutation('retention.save')
  const saved = signal(false, { name: 'retention.saved' })

  return {
    settings,
    save,
    saved,
    load() {
      saved.value = false
      return settings.run(() => api<Retention>('/privacy/retention'))
    },
    async store(next: Retention) {
      saved.value = false
      const result = await save.run(() =>
        api<Retention>('/privacy/retention', { method: 'PUT', body: next }),
      )
      if (result !== undefined) {
        settings.set(
          result && typeof result === 'object' && 'rawEventsDays' in result ? result : next,
        )
        saved.value = true
      }
    },
  }
})

export const retention = new RetentionModel()
