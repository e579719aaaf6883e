import { useState, type FormEvent } from 'react'

/** Asks for an API key or a JWT whose roles include "admin". */
export function Login({ error, onSubmit }: { error: string | null; onSubmit: (credential: string) => void }) {
  const [value, setValue] = useState('')
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (value.trim()) onSubmit(value.trim())
  }
  return (
    <main>
      <section className="panel" aria-label="sign in">
        <h2>Sign in</h2>
        <p className="muted">
          The admin view needs an API key (<code>auth.apiKeys</code>) or a JWT whose <code>roles</code> include{' '}
          <code>admin</code> (<code>switchboard token --user you --claims {'\'{"roles":["admin"]}\''}</code>). It is
          kept for this tab only.
        </p>
        <form className="row" onSubmit={submit}>
          <input
            type="password"
            name="credential"
            placeholder="API key or admin JWT"
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
          <button className="primary" type="submit">
            Connect
          </button>
        </form>
        {error && <p className="error">{error}</p>}
      </section>
    </main>
  )
}
