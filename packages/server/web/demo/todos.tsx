import type { SwitchboardError } from '@switchboard/client'
import { useQuery, useSwitchboard } from '@switchboard/react'
import { useState, type FormEvent } from 'react'
import type { Identity } from './identity.js'

interface Todo extends Record<string, unknown> {
  title: string
  done: boolean
  created: number
  by: string
}

/** A shared todo list: one record per todo, shown through a live query (open todos, newest first). */
export function Todos({ me }: { me: Identity }) {
  const sb = useSwitchboard()
  const open = useQuery<Todo>('demo/todos', {
    where: [['done', '==', false]],
    orderBy: [['created', 'desc']],
    limit: 50,
  })
  const [title, setTitle] = useState('')
  const [error, setError] = useState<string | null>(null)

  /** A one-off write through a short-lived handle (its subscription ends with it). */
  const write = (name: string, change: (todo: ReturnType<typeof sb.record<Todo>>) => Promise<unknown>) => {
    const handle = sb.record<Todo>(name)
    change(handle).then(
      () => {
        setError(null)
        handle.discard()
      },
      (e: SwitchboardError) => {
        setError(e.message)
        handle.discard()
      },
    )
  }
  const add = (e: FormEvent) => {
    e.preventDefault()
    const text = title.trim()
    if (!text) return
    setTitle('')
    const id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    write(`demo/todos/${id}`, (h) => h.set({ title: text, done: false, created: Date.now(), by: me.name }))
  }
  return (
    <section className="panel" aria-label="Todos">
      <h2>Open todos ({open.rows.length})</h2>
      <ul className="todos">
        {open.ready && open.rows.length === 0 && <li className="empty">Nothing to do.</li>}
        {open.rows.map((row) => (
          <li key={row.name} data-todo={row.data.title}>
            <input
              type="checkbox"
              aria-label={`complete ${row.data.title}`}
              onChange={() => write(row.name, (h) => h.set('done', true))}
            />
            {row.data.title}
            <span className="who muted">{row.data.by}</span>
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={add}>
        <input
          type="text"
          name="todo"
          placeholder="Something to do"
          maxLength={200}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button type="submit">Add</button>
      </form>
      {(error ?? open.error) && <p className="error">{error ?? open.error?.message}</p>}
    </section>
  )
}
