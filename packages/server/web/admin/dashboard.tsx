import type { SwitchboardError } from '@switchboard/client'
import { useConnectionState, useRpc, useSubscription, useSwitchboard } from '@switchboard/react'
import { useEffect, useState, type FormEvent } from 'react'
import { ADMIN, type AdminSnapshot } from './snapshot.js'
import { Channels, Connections, Nodes, Presence, Queries, Records, RpcProviders } from './tables.js'

/**
 * Live: one snapshot by RPC after every (re)connect, then every snapshot the server publishes
 * on the live channel. Nothing is polled.
 */
export function Dashboard({ onRefused }: { onRefused: (message: string) => void }) {
  const sb = useSwitchboard()
  const state = useConnectionState()
  const [snapshot, setSnapshot] = useState<AdminSnapshot | null>(null)
  const [notice, setNotice] = useState<string | null>(null)
  const fetchSnapshot = useRpc<undefined, AdminSnapshot>(ADMIN.snapshot)
  const disconnect = useRpc<{ client: string }, { disconnected: boolean }>(ADMIN.disconnect)

  useEffect(() => {
    if (state !== 'connected') return
    fetchSnapshot(undefined).then(setSnapshot, (e: SwitchboardError) => {
      if (e.code === 'PERMISSION_DENIED') onRefused('This credential is not an admin (no "admin" role).')
      else setNotice(e.message)
    })
  }, [state, fetchSnapshot, onRefused])

  const kick = (client: string) =>
    disconnect({ client }).then(
      (r) => setNotice(r.disconnected ? `Disconnected ${client}.` : `${client} had already gone.`),
      (e: SwitchboardError) => setNotice(e.message),
    )

  if (!snapshot) return <main className="muted">{notice ?? 'Loading…'}</main>
  return (
    <main>
      {notice && <p className="muted">{notice}</p>}
      <Live channel={snapshot.live} onSnapshot={setSnapshot} onRefused={onRefused} />
      <Nodes snapshot={snapshot} />
      <Connections snapshot={snapshot} self={sb.clientId} onDisconnect={kick} />
      <Channels snapshot={snapshot} />
      <TestMessage onDone={setNotice} />
      <Records snapshot={snapshot} />
      <Queries snapshot={snapshot} />
      <RpcProviders snapshot={snapshot} />
      <Presence snapshot={snapshot} />
    </main>
  )
}

function TestMessage({ onDone }: { onDone: (notice: string) => void }) {
  const publish = useRpc<{ channel: string; data: unknown }, { offset: number }>(ADMIN.publish)
  const [channel, setChannel] = useState('demo/chat')
  const [text, setText] = useState('test message from the admin view')
  const submit = (e: FormEvent) => {
    e.preventDefault()
    publish({ channel, data: { text, name: 'admin', color: '#677086' } }).then(
      (r) => onDone(`Published to ${channel} at offset ${r.offset}.`),
      (err: SwitchboardError) => onDone(err.message),
    )
  }
  return (
    <section className="panel" aria-label="Publish a test message">
      <h2>Publish a test message</h2>
      <form className="row" onSubmit={submit}>
        <input type="text" name="channel" value={channel} onChange={(e) => setChannel(e.target.value)} />
        <input type="text" name="text" value={text} onChange={(e) => setText(e.target.value)} />
        <button className="primary" type="submit">
          Publish
        </button>
      </form>
    </section>
  )
}

/** The node's live channel (named by the snapshot): every snapshot it publishes replaces the last. */
function Live({
  channel,
  onSnapshot,
  onRefused,
}: {
  channel: string
  onSnapshot: (snapshot: AdminSnapshot) => void
  onRefused: (message: string) => void
}) {
  const live = useSubscription<AdminSnapshot>(channel, onSnapshot)
  useEffect(() => {
    if (live.error?.code === 'PERMISSION_DENIED') onRefused('This credential is not an admin (no "admin" role).')
  }, [live.error, onRefused])
  return null
}
