import { useState } from 'preact/hooks'
import { session } from '../models/session'
import { ErrorNotice } from './common'

export function LoginScreen() {
  const [key, setKey] = useState('')
  const error = session.loginError.value
  return (
    <main class="login" id="main">
      <form
        class="panel form"
        aria-labelledby="login-title"
        onSubmit={(event) => {
          event.preventDefault()
          if (key.trim()) void session.login(key)
        }}
      >
        <h1 id="login-title">Cairn</h1>
        <p class="muted small">Log in with a secret key. Its role decides what you can see.</p>
        {session.notice.value && (
          <p class="notice" role="status">
            {session.notice.value}
          </p>
        )}
        <label for="login-key">Secret key</label>
        <input
          id="login-key"
          name="key"
          type="password"
          autoComplete="current-password"
          autoFocus
          required
          value={key}
          placeholder="sk_…"
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={!key.trim() || session.loggingIn.value}>
          {session.loggingIn.value ? 'Logging in…' : 'Log in'}
        </button>
        {error && (
          <ErrorNotice
            error={error}
            title={
              error.status === 401
                ? 'That key is unknown or revoked'
                : error.status === 429
                  ? 'Too many attempts'
                  : 'Could not log in'
            }
          />
        )}
      </form>
    </main>
  )
}
