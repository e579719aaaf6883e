import type { ReactNode } from 'react'
import { bytes, duration } from '../common/format.js'
import type { AdminSnapshot } from './snapshot.js'

function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  )
}

function Table({ head, rows, empty }: { head: ReactNode; rows: ReactNode[]; empty: string }) {
  if (rows.length === 0) return <p className="empty">{empty}</p>
  return (
    <table>
      <thead>{head}</thead>
      <tbody>{rows}</tbody>
    </table>
  )
}

export function Nodes({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="Nodes">
      <Table
        empty="no nodes"
        head={
          <tr>
            <th>node</th>
            <th>state</th>
            <th className="num">connections</th>
            <th className="num">up</th>
          </tr>
        }
        rows={snapshot.nodes.map((n) => (
          <tr key={n.id}>
            <td>
              <code>{n.id}</code>
              {n.self && <span className="muted"> (this node)</span>}
            </td>
            <td>{n.state}</td>
            <td className="num">{n.connections ?? '—'}</td>
            <td className="num">{n.uptimeMs === null ? '—' : duration(n.uptimeMs)}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}

export function Connections({
  snapshot,
  self,
  onDisconnect,
}: {
  snapshot: AdminSnapshot
  self: string | null
  onDisconnect: (client: string) => void
}) {
  return (
    <Panel title="Connections">
      <Table
        empty="no connections"
        head={
          <tr>
            <th>client</th>
            <th>user</th>
            <th>transport</th>
            <th>address</th>
            <th>subscriptions</th>
            <th className="num">buffered</th>
            <th className="num">for</th>
            <th />
          </tr>
        }
        rows={snapshot.connections.map((c) => (
          <tr key={c.id} data-client={c.id}>
            <td>
              <code>{c.id}</code>
              {c.id === self && <span className="muted"> (this page)</span>}
            </td>
            <td>{c.user ?? <span className="muted">anonymous</span>}</td>
            <td data-field="transport">{c.transport}</td>
            <td>{c.address}</td>
            <td>
              {[...c.channels, ...c.records.map((r) => `record ${r}`), ...c.provides.map((p) => `rpc ${p}`)].join(
                ', ',
              ) || <span className="muted">none</span>}
            </td>
            <td className="num">{bytes(c.bufferedBytes)}</td>
            <td className="num">{duration(snapshot.at - c.since)}</td>
            <td>
              {c.id !== self && (
                <button className="danger" onClick={() => onDisconnect(c.id)}>
                  Disconnect
                </button>
              )}
            </td>
          </tr>
        ))}
      />
      {snapshot.moreConnections > 0 && <p className="muted">and {snapshot.moreConnections} more</p>}
    </Panel>
  )
}

export function Channels({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="Channels">
      <Table
        empty="no channel subscriptions"
        head={
          <tr>
            <th>channel</th>
            <th className="num">subscribers</th>
            <th className="num">messages/s</th>
            <th className="num">history</th>
          </tr>
        }
        rows={snapshot.channels.map((c) => (
          <tr key={c.name}>
            <td>{c.name}</td>
            <td className="num">{c.subscribers}</td>
            <td className="num">{c.ratePerSecond}</td>
            <td className="num">{c.history}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}

export function Records({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="Records">
      <Table
        empty="no record subscriptions"
        head={
          <tr>
            <th>record</th>
            <th className="num">subscribers</th>
          </tr>
        }
        rows={snapshot.records.map((r) => (
          <tr key={r.name}>
            <td>{r.name}</td>
            <td className="num">{r.subscribers}</td>
          </tr>
        ))}
      />
      <h2>Recent writes</h2>
      <Table
        empty="no writes yet"
        head={
          <tr>
            <th>record</th>
            <th className="num">version</th>
            <th className="num">ago</th>
          </tr>
        }
        rows={snapshot.recentWrites.map((w) => (
          <tr key={`${w.name}@${w.version}`}>
            <td>
              {w.name}
              {w.deleted && <span className="muted"> (deleted)</span>}
            </td>
            <td className="num">{w.version}</td>
            <td className="num">{duration(snapshot.at - w.at)}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}

export function Queries({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="Live queries">
      <Table
        empty="no live queries"
        head={
          <tr>
            <th>collection</th>
            <th>query</th>
            <th className="num">subscribers</th>
            <th className="num">rows</th>
          </tr>
        }
        rows={snapshot.queries.map((q) => (
          <tr key={`${q.collection} ${q.query}`}>
            <td>{q.collection}</td>
            <td>
              <code>{q.query}</code>
            </td>
            <td className="num">{q.subscribers}</td>
            <td className="num">{q.rows}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}

export function RpcProviders({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="RPC providers">
      <Table
        empty="no client providers"
        head={
          <tr>
            <th>name</th>
            <th className="num">providers</th>
          </tr>
        }
        rows={snapshot.rpc.map((r) => (
          <tr key={r.name}>
            <td>{r.name}</td>
            <td className="num">{r.providers}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}

export function Presence({ snapshot }: { snapshot: AdminSnapshot }) {
  return (
    <Panel title="Presence">
      <Table
        empty="nobody joined a room"
        head={
          <tr>
            <th>room</th>
            <th>members</th>
          </tr>
        }
        rows={snapshot.presence.map((p) => (
          <tr key={p.room}>
            <td>{p.room === '$global' ? 'global' : p.room}</td>
            <td>{p.members.map((m) => m.user ?? m.client).join(', ')}</td>
          </tr>
        ))}
      />
    </Panel>
  )
}
