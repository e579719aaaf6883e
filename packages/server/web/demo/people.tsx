import { usePresence, useSwitchboard } from '@switchboard/react'
import type { Identity } from './identity.js'

/** Presence: everyone on the demo page, as avatars; this tab joins while it is open. */
export function People({ me }: { me: Identity }) {
  const sb = useSwitchboard()
  const members = usePresence('demo/room', me)
  return (
    <section className="panel" aria-label="Here now">
      <h2>Here now ({members.length})</h2>
      <ul className="avatars">
        {members.map((m) => {
          const who = (m.meta ?? {}) as Partial<Identity>
          const name = who.name ?? 'someone'
          return (
            <li key={m.clientId} title={name} data-member={name}>
              <span className="avatar" style={{ background: who.color ?? '#677086' }}>
                {name.slice(0, 1)}
              </span>
              {name}
              {m.clientId === sb.clientId && <span className="muted"> (you)</span>}
            </li>
          )
        })}
      </ul>
    </section>
  )
}
