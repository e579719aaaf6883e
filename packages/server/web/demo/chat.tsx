import type { SwitchboardError } from '@switchboard/client'
import { useChannel, useSwitchboard } from '@switchboard/react'
import { useState, type FormEvent } from 'react'
import type { Identity } from './identity.js'

export const CHAT = 'demo/chat'

interface ChatMessage {
  text: string
  name: string
  color: string
}

/** A channel with history (shown on arrival) and recovery (what was missed while offline). */
export function Chat({ me }: { me: Identity }) {
  const sb = useSwitchboard()
  const messages = useChannel<ChatMessage>(CHAT, { limit: 50 })
  const [text, setText] = useState('')
  const [error, setError] = useState<string | null>(null)
  const send = (e: FormEvent) => {
    e.preventDefault()
    const body = text.trim()
    if (!body) return
    setText('')
    // Queued while offline, sent in order after the reconnect.
    sb.publish(CHAT, { text: body, name: me.name, color: me.color }).then(
      () => setError(null),
      (err: SwitchboardError) => setError(err.message),
    )
  }
  return (
    <section className="panel chat" aria-label="Chat">
      <h2>Chat</h2>
      <ol className="messages">
        {messages.length === 0 && <li className="empty">No messages yet: say hello.</li>}
        {messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} data-offset={m.offset}>
            <b style={{ color: m.data.color }}>{m.data.name}</b> {m.data.text}
          </li>
        ))}
      </ol>
      <form className="row" onSubmit={send}>
        <input
          type="text"
          name="message"
          placeholder="Message"
          maxLength={500}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <button className="primary" type="submit">
          Send
        </button>
      </form>
      {error && <p className="error">{error}</p>}
    </section>
  )
}
