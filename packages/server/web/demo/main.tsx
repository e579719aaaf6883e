import { Switchboard } from '@switchboard/client'
import { SwitchboardProvider } from '@switchboard/react'
import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import '../common/style.css'
import './demo.css'
import { Chat } from './chat.js'
import { identity } from './identity.js'
import { People } from './people.js'
import { PollPanel } from './poll.js'
import { Status } from './status.js'
import { Todos } from './todos.js'

const me = identity()

function App() {
  const [client, setClient] = useState<Switchboard | null>(null)
  // One client per page, made in the effect so StrictMode's remount never reuses a closed one.
  useEffect(() => {
    const sb = new Switchboard(location.origin)
    setClient(sb)
    sb.connect().catch(() => {}) // the state badge shows what happens; it keeps retrying
    return () => {
      setClient(null)
      void sb.close()
    }
  }, [])
  if (!client) return null
  return (
    <SwitchboardProvider client={client}>
      <header className="bar">
        <h1>Switchboard demo</h1>
        <span className="muted">you are {me.name}</span>
        <Status />
      </header>
      <main className="demo">
        <div className="column">
          <p className="intro">
            Open this page in a second window: chat, todos, votes and presence show up in both, live.
          </p>
          <Chat me={me} />
          <Todos me={me} />
        </div>
        <div className="column">
          <People me={me} />
          <PollPanel />
        </div>
      </main>
    </SwitchboardProvider>
  )
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
)
