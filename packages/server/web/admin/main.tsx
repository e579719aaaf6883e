import { Switchboard, type SwitchboardError } from '@switchboard/client'
import { SwitchboardProvider, useConnectionState } from '@switchboard/react'
import { StrictMode, useCallback, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import '../common/style.css'
import { credential } from './credential.js'
import { Dashboard } from './dashboard.js'
import { Login } from './login.js'

function App() {
  const [token, setToken] = useState(credential.read)
  const [error, setError] = useState<string | null>(null)
  const [client, setClient] = useState<Switchboard | null>(null)
  const signOut = useCallback((message: string | null) => {
    credential.forget()
    setError(message)
    setToken(null)
  }, [])
  // The client lives as long as the credential: made in the effect, so StrictMode's remount
  // closes one client and makes another instead of reusing a closed one.
  useEffect(() => {
    if (!token) return
    const sb = new Switchboard(location.origin, { token })
    setClient(sb)
    sb.connect().catch((e: SwitchboardError) => {
      if (e.code === 'AUTH_FAILED') signOut('The server refused this credential.')
    })
    return () => {
      setClient(null)
      void sb.close()
    }
  }, [token, signOut])

  return (
    <>
      <header className="bar">
        <h1>Switchboard admin</h1>
        {client && (
          <SwitchboardProvider client={client}>
            <State />
          </SwitchboardProvider>
        )}
        {client && <button onClick={() => signOut(null)}>Forget credential</button>}
      </header>
      {client ? (
        <SwitchboardProvider client={client}>
          <Dashboard onRefused={signOut} />
        </SwitchboardProvider>
      ) : (
        <Login
          error={error}
          onSubmit={(value) => {
            credential.save(value)
            setError(null)
            setToken(value)
          }}
        />
      )}
    </>
  )
}

function State() {
  const state = useConnectionState()
  return <span className={`badge ${state}`}>{state}</span>
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
