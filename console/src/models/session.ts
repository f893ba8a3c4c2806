import { computed, createModel, signal } from '@preact/signals'
import { api, ApiError, asApiError, onSessionEnded, setCsrfToken } from './api'
import type { Role } from './access'

export interface SessionInfo {
  role: Role
  name: string
  csrfToken: string
  expiresAt: string | null
}

export type SessionStatus = 'checking' | 'anonymous' | 'authenticated'

/**
 * Who is logged in. The cookie is HttpOnly, so the console learns about its session only from
 * GET /api/session; the CSRF token it returns stays in memory.
 */
export const SessionModel = createModel(() => {
  const status = signal<SessionStatus>('checking', { name: 'session.status' })
  const user = signal<Omit<SessionInfo, 'csrfToken'> | undefined>(undefined, {
    name: 'session.user',
  })
  const loginError = signal<ApiError | undefined>(undefined, { name: 'session.loginError' })
  const loggingIn = signal(false, { name: 'session.loggingIn' })
  /** Why the person was sent back to the login screen, if not by choice. */
  const notice = signal<string | undefined>(undefined, { name: 'session.notice' })

  function accept(info: SessionInfo) {
    setCsrfToken(info.csrfToken)
    user.value = { role: info.role, name: info.name, expiresAt: info.expiresAt }
    status.value = 'authenticated'
    notice.value = undefined
  }

  function forget(reason?: string) {
    setCsrfToken('')
    user.value = undefined
    status.value = 'anonymous'
    notice.value = reason
  }

  // Any 401 while logged in (expired, logged out elsewhere, key revoked) ends the session here.
  onSessionEnded(() => {
    if (status.peek() === 'authenticated') {
      forget('Your session has ended. Log in again to continue.')
    }
  })

  return {
    status,
    user,
    loginError,
    loggingIn,
    notice,
    role: computed(() => user.value?.role, { name: 'session.role' }),

    async restore() {
      try {
        accept(await api<SessionInfo>('/session'))
      } catch (error) {
        const failure = asApiError(error)
        forget(failure.status === 401 ? undefined : failure.message)
      }
    },

    async login(key: string) {
      loggingIn.value = true
      loginError.value = undefined
      try {
        accept(await api<SessionInfo>('/session', { method: 'POST', body: { key: key.trim() } }))
        return true
      } catch (error) {
        loginError.value = asApiError(error)
        return false
      } finally {
        loggingIn.value = false
      }
    },

    async logout() {
      try {
        await api('/session', { method: 'DELETE' })
      } catch {
        // The cookie may already be gone; either way the person is logged out here.
      }
      forget()
    },
  }
})

export const session = new SessionModel()
