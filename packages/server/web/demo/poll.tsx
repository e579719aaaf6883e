import type { SwitchboardError } from '@switchboard/client'
import { useRecord, useRpc } from '@switchboard/react'
import { useState } from 'react'

interface Poll extends Record<string, unknown> {
  votes: Record<string, number>
}

/** The server's demo/vote handler takes these options; the record is created by the first vote. */
const QUESTION = 'What do we have for lunch?'
const OPTIONS = ['pizza', 'sushi', 'salad']

/** The voting example: a vote is an RPC; the server counts one per voter into the poll record. */
export function PollPanel() {
  const poll = useRecord<Poll>('demo/poll')
  const vote = useRpc<{ option: string }, { option: string }>('demo/vote')
  const [mine, setMine] = useState<string | null>(null)
  const [message, setMessage] = useState<string | null>(null)
  const cast = (option: string) =>
    vote({ option }).then(
      () => {
        setMine(option)
        setMessage(null)
      },
      (e: SwitchboardError) => setMessage(e.code === 'VERSION_CONFLICT' ? 'You have already voted.' : e.message),
    )
  const votes = poll.data?.votes ?? {}
  const total = OPTIONS.reduce((sum, o) => sum + (votes[o] ?? 0), 0)
  return (
    <section className="panel" aria-label="Poll">
      <h2>Poll</h2>
      {!poll.ready ? (
        <p className="muted">{poll.error ? poll.error.message : 'Loading…'}</p>
      ) : (
        <>
          <p>{QUESTION}</p>
          <ul className="options">
            {OPTIONS.map((option) => {
              const n = votes[option] ?? 0
              return (
                <li key={option} data-option={option}>
                  <button disabled={mine !== null} onClick={() => void cast(option)}>
                    {option}
                  </button>
                  <span className="bar">
                    <span style={{ width: `${total ? (100 * n) / total : 0}%` }} />
                  </span>
                  <span className="count" data-votes={n}>
                    {n}
                  </span>
                </li>
              )
            })}
          </ul>
          <p className="muted">
            {total} vote{total === 1 ? '' : 's'} · version {poll.version}
            {mine && ` · you voted ${mine}`}
          </p>
        </>
      )}
      {message && <p className="error">{message}</p>}
    </section>
  )
}
