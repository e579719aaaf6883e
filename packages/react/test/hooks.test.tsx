import type { PresenceMember, Switchboard, SwitchboardError } from '@switchboard/client'
import {
  useChannel,
  useConnectionState,
  usePresence,
  useQuery,
  useRecord,
  useRpc,
  useSubscription,
  useTransport,
  type ChannelMessage,
  type QueryState,
  type RecordResult,
  type SubscriptionState,
} from '@switchboard/react'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Resources, type TestServer } from '../../../tests/support/server.js'
import { waitFor } from '../../../tests/support/wait.js'
import { renderToString } from 'react-dom/server'
import { SwitchboardProvider } from '@switchboard/react'
import { mount, Probe } from './harness.js'

interface Todo extends Record<string, unknown> {
  title: string
  done: boolean
}

const dir = mkdtempSync(join(tmpdir(), 'sb-react-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A permissions file with `rules` (what no rule allows is denied). */
function rulesFile(rules: string): string {
  const file = join(dir, `rules-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, rules)
  return file
}

let res: Resources
let srv: TestServer
/** occupied/vacated events the server reported, as `+name` / `-name`, in order. */
let occupancy: string[]

beforeEach(async () => {
  res = new Resources()
  srv = await res.server({
    hooks: { graceMs: 0 },
    channels: { 'chat/**': { history: { size: 100 } } },
  })
  occupancy = []
  srv.server.on('occupied', (e) => occupancy.push(`+${e.name}`))
  srv.server.on('vacated', (e) => occupancy.push(`-${e.name}`))
})

afterEach(() => res.cleanup())

/** How many messages of each type the server received, from /metrics (`{ rsub: 1, … }`). */
async function received(): Promise<Record<string, number>> {
  // node:http, not fetch: happy-dom's fetch applies a browser's same-origin rules.
  const text = await new Promise<string>((resolve, reject) => {
    get(`${srv.url}/metrics`, (r) => {
      let body = ''
      r.setEncoding('utf8')
      r.on('data', (chunk: string) => (body += chunk))
      r.on('end', () => resolve(body))
    }).on('error', reject)
  })
  const counts: Record<string, number> = {}
  for (const m of text.matchAll(/^switchboard_messages_received_total\{type="(\w+)"\} (\d+)$/gm)) {
    counts[m[1]!] = Number(m[2])
  }
  return counts
}

/** Two ways to mount: plain, and under StrictMode (effects run, are cleaned up, run again). */
const modes = [
  { strict: false, label: 'plain' },
  { strict: true, label: 'StrictMode' },
] as const

describe.each(modes)('useConnectionState ($label)', ({ strict }) => {
  it('follows the client from idle to connected to closed', async () => {
    const sb = res.client(srv.url)
    const probe = new Probe<string>()
    function State() {
      return probe.see(useConnectionState())
    }
    mount(sb, <State />, { strict })
    await waitFor(() => probe.latest === 'idle', 'idle')
    await sb.connect()
    await waitFor(() => probe.latest === 'connected', 'connected')
    await sb.close()
    await waitFor(() => probe.latest === 'closed', 'closed')
  })
})

describe.each(modes)('useTransport ($label)', ({ strict }) => {
  // WebSocket only: the fallback transports would use the DOM environment's fetch here (they are
  // covered in Chromium, tests/browser/admin.browser.test.ts, and by the client's own suites).
  it('shows the transport while connected, null otherwise', async () => {
    const name = 'websocket'
    const sb = res.client(srv.url, { transports: [name] })
    const probe = new Probe<string | null>()
    function Transport() {
      return probe.see(useTransport())
    }
    mount(sb, <Transport />, { strict })
    await waitFor(() => probe.renders.length > 0, 'rendered')
    expect(probe.latest).toBeNull()
    await sb.connect()
    await waitFor(() => probe.latest === name, name)
    await sb.close()
    await waitFor(() => probe.latest === null, 'null once closed')
  })
})

describe.each(modes)('useRecord ($label)', ({ strict }) => {
  it('shows the record, follows other clients, writes with set/update, and releases it on unmount', async () => {
    const sb = await res.connected(srv.url)
    await srv.server.records.set('todos/1', { title: 'milk', done: false })
    const probe = new Probe<RecordResult<Todo>>()
    function TodoView() {
      return probe.see(useRecord<Todo>('todos/1'))
    }
    const view = mount(sb, <TodoView />, { strict })
    await waitFor(() => probe.latest?.ready, 'the first snapshot')
    expect(probe.latest?.data).toEqual({ title: 'milk', done: false })
    expect(probe.latest?.version).toBe(1)

    await srv.server.records.set('todos/1', 'done', true)
    await waitFor(() => probe.latest?.data?.done === true, "someone else's change")

    await probe.latest!.set('title', 'oat milk')
    await waitFor(() => probe.latest?.version === 3, 'own write confirmed')
    await probe.latest!.update({ increment: { count: 2 } })
    await waitFor(() => probe.latest?.version === 4, 'the update confirmed')
    expect(probe.latest?.data).toEqual({ title: 'oat milk', done: true, count: 2 })
    expect((await srv.server.records.get('todos/1'))?.data).toEqual({ title: 'oat milk', done: true, count: 2 })

    // One server subscription for the component, even under StrictMode's double mount.
    expect(occupancy).toEqual(['+todos/1'])
    view.unmount()
    await waitFor(() => occupancy.length === 2, 'the unsubscribe')
    expect(occupancy).toEqual(['+todos/1', '-todos/1'])
    expect(await received()).toMatchObject({ rsub: 1, runsub: 1 })
  })

  it('shares one subscription between components and with sb.record', async () => {
    const sb = await res.connected(srv.url)
    const handle = sb.record<Todo>('todos/2')
    await handle.set({ title: 'a', done: false })
    const a = new Probe<RecordResult<Todo>>()
    const b = new Probe<RecordResult<Todo>>()
    function A() {
      return a.see(useRecord<Todo>('todos/2'))
    }
    function B() {
      return b.see(useRecord<Todo>('todos/2'))
    }
    const view = mount(sb, [<A key="a" />, <B key="b" />], { strict })
    await waitFor(() => a.latest?.ready && b.latest?.ready, 'both ready')
    await a.latest!.set('done', true)
    await waitFor(() => b.latest?.data?.done === true && handle.data?.done === true, 'the write everywhere')
    view.render(<A />)
    await waitFor(() => b.renders.length > 0, 'B gone') // B is unmounted; A and the handle hold on
    view.unmount()
    await Promise.resolve()
    expect(occupancy).toEqual(['+todos/2'])
    handle.discard()
    await waitFor(() => occupancy.length === 2, 'the last holder let go')
    expect(occupancy).toEqual(['+todos/2', '-todos/2'])
  })

  it('reports a refused subscription and a rejected write through error', async () => {
    const guarded = await res.server({
      auth: { anonymous: true },
      permissions: rulesFile(`records:\n  'open/*': { read: 'true', write: 'false' }\n`),
    })
    const sb = await res.connected(guarded.url)
    const secret = new Probe<RecordResult<Todo>>()
    const open = new Probe<RecordResult<Todo>>()
    function Views() {
      secret.see(useRecord<Todo>('secret/1'))
      return open.see(useRecord<Todo>('open/1'))
    }
    mount(sb, <Views />, { strict })
    await waitFor(() => secret.latest?.error, 'the refusal')
    expect((secret.latest!.error as SwitchboardError).code).toBe('PERMISSION_DENIED')
    expect(secret.latest!.ready).toBe(false)

    await waitFor(() => open.latest?.ready, 'open/1 ready')
    const write = open.latest!.set({ title: 'x', done: false })
    await expect(write).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    await waitFor(() => open.latest?.error, 'the rejected write')
    expect(open.latest!.error!.code).toBe('PERMISSION_DENIED')
    expect(open.latest!.data).toBeUndefined() // rolled back
  })
})

describe.each(modes)('useQuery ($label)', ({ strict }) => {
  interface Item extends Record<string, unknown> {
    title: string
    done: boolean
    created: number
  }

  it('keeps the rows of a live query current and closes it on unmount', async () => {
    const sb = await res.connected(srv.url)
    await srv.server.records.set('items/a', { title: 'a', done: false, created: 1 })
    await srv.server.records.set('items/b', { title: 'b', done: false, created: 2 })
    await srv.server.records.set('items/c', { title: 'c', done: true, created: 3 })
    const probe = new Probe<QueryState<Item>>()
    function OpenItems() {
      // An inline options object: compared by value, so re-renders do not restart the query.
      return probe.see(useQuery<Item>('items', { where: [['done', '==', false]], orderBy: [['created', 'desc']] }))
    }
    const view = mount(sb, <OpenItems />, { strict })
    await waitFor(() => probe.latest?.ready, 'the first result')
    const names = () => probe.latest!.rows.map((r) => r.name)
    expect(names()).toEqual(['items/b', 'items/a'])
    expect(probe.latest!.rows[0]!.data.title).toBe('b')

    await srv.server.records.set('items/d', { title: 'd', done: false, created: 4 })
    await waitFor(() => names()[0] === 'items/d', 'a new open item first')
    await srv.server.records.set('items/b', 'done', true)
    await waitFor(() => !names().includes('items/b'), 'a done item leaves')
    expect(names()).toEqual(['items/d', 'items/a'])
    view.render(<OpenItems />)

    view.unmount()
    await waitFor(async () => (await received()).qunsub === 1, 'the query closed')
    expect(await received()).toMatchObject({ qsub: 1, qunsub: 1 })
  })

  it('reports a bad query through error', async () => {
    const sb = await res.connected(srv.url)
    const probe = new Probe<QueryState<Item>>()
    function Bad() {
      return probe.see(useQuery<Item>('items', { where: [['done', 'like' as '==', true]] }))
    }
    mount(sb, <Bad />, { strict })
    await waitFor(() => probe.latest?.error, 'the refusal')
    expect(probe.latest!.error!.code).toBe('INVALID_DATA')
    expect(probe.latest!.ready).toBe(false)
  })
})

describe.each(modes)('useSubscription and useChannel ($label)', ({ strict }) => {
  it('delivers publications to the latest handler and unsubscribes on unmount', async () => {
    const sb = await res.connected(srv.url)
    const seen: string[] = []
    const state = new Probe<SubscriptionState>()
    function Listener({ tag }: { tag: string }) {
      return state.see(useSubscription<{ text: string }>('chat/a', (data) => seen.push(`${tag}:${data.text}`)))
    }
    const view = mount(sb, <Listener tag="first" />, { strict })
    await waitFor(() => state.latest?.ready, 'subscribed')
    await srv.server.publish('chat/a', { text: 'one' })
    await waitFor(() => seen.length === 1, 'one')
    view.render(<Listener tag="second" />)
    await waitFor(() => state.renders.length >= 3, 'the re-render')
    await srv.server.publish('chat/a', { text: 'two' })
    await waitFor(() => seen.length === 2, 'two')
    expect(seen).toEqual(['first:one', 'second:two'])
    expect(occupancy).toEqual(['+chat/a'])
    view.unmount()
    await waitFor(() => occupancy.length === 2, 'the unsubscribe')
    expect(occupancy).toEqual(['+chat/a', '-chat/a'])
  })

  it('lists history then live messages, newest last, cut to the limit', async () => {
    const sb = await res.connected(srv.url)
    for (const text of ['h1', 'h2', 'h3']) await srv.server.publish('chat/b', { text })
    const probe = new Probe<ChannelMessage<{ text: string }>[]>()
    function Chat() {
      return probe.see(useChannel<{ text: string }>('chat/b', { limit: 3 }))
    }
    const view = mount(sb, <Chat />, { strict })
    await waitFor(() => probe.latest?.length === 3, 'history')
    expect(probe.latest!.map((m) => m.data.text)).toEqual(['h1', 'h2', 'h3'])
    await sb.publish('chat/b', { text: 'live' })
    await waitFor(() => probe.latest?.[2]?.data.text === 'live', 'the live message')
    expect(probe.latest!.map((m) => m.data.text)).toEqual(['h2', 'h3', 'live'])
    expect(probe.latest!.map((m) => m.offset)).toEqual([2, 3, 4])
    view.unmount()
    await waitFor(() => occupancy.includes('-chat/b'), 'the unsubscribe')
    expect(occupancy).toEqual(['+chat/b', '-chat/b'])
  })

  it('reports a refused subscription through error and onError', async () => {
    const guarded = await res.server({
      auth: { anonymous: true },
      permissions: rulesFile(`channels:\n  'open/*': { subscribe: 'true' }\n`),
    })
    const sb = await res.connected(guarded.url)
    const state = new Probe<SubscriptionState>()
    const channelErrors: SwitchboardError[] = []
    function Views() {
      useChannel('closed/x', { onError: (e) => channelErrors.push(e) })
      return state.see(useSubscription('closed/y', () => {}))
    }
    mount(sb, <Views />, { strict })
    await waitFor(() => state.latest?.error && channelErrors.length > 0, 'the refusals')
    expect(state.latest!.error!.code).toBe('PERMISSION_DENIED')
    await sb.rpc.call('nothing/here').catch(() => {}) // a round trip later: nothing else was reported
    expect(channelErrors.map((e) => e.code)).toEqual(['PERMISSION_DENIED'])
  })
})

describe.each(modes)('usePresence ($label)', ({ strict }) => {
  it('joins while mounted, updates meta, lists the members, and leaves on unmount', async () => {
    const sb = await res.connected(srv.url)
    const other = await res.connected(srv.url)
    await other.presence('room/1').join({ name: 'other' })
    const probe = new Probe<PresenceMember[]>()
    function Room({ status }: { status: string }) {
      return probe.see(usePresence('room/1', { status }))
    }
    const view = mount(sb, <Room status="online" />, { strict })
    await waitFor(() => probe.latest?.length === 2, 'both members')
    const mine = () => probe.latest!.find((m) => m.clientId === sb.clientId)
    expect(mine()?.meta).toEqual({ status: 'online' })
    view.render(<Room status="away" />)
    await waitFor(() => (mine()?.meta as { status?: string } | undefined)?.status === 'away', 'the new meta')
    const members = await srv.server.presence.members('room/1')
    expect(members.map((m) => m.clientId).sort()).toEqual([sb.clientId, other.clientId].sort())
    view.unmount()
    await waitFor(async () => (await srv.server.presence.members('room/1')).length === 1, 'the leave')
    // Joined once (StrictMode's remount included), updated once, left once; watched once.
    expect(await received()).toMatchObject({ pjoin: 3, pleave: 1, pwatch: 1, punwatch: 1 })
  })

  it('reports a refused join once through onError', async () => {
    const guarded = await res.server({
      auth: { anonymous: true },
      permissions: rulesFile(`presence:\n  'room/**': { join: 'false', read: 'true' }\n`),
    })
    const sb = await res.connected(guarded.url)
    const errors: SwitchboardError[] = []
    const probe = new Probe<PresenceMember[]>()
    function Room() {
      return probe.see(usePresence('room/3', { status: 'online' }, { onError: (e) => errors.push(e) }))
    }
    mount(sb, <Room />, { strict })
    await waitFor(() => errors.length > 0, 'the refusal')
    await sb.rpc.call('nothing/here').catch(() => {}) // a round trip later: nothing else was reported
    expect(errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED'])
    expect(probe.latest).toEqual([])
  })

  it('watches without joining when join is false', async () => {
    const sb = await res.connected(srv.url)
    const other = await res.connected(srv.url)
    const probe = new Probe<PresenceMember[]>()
    function Watcher() {
      return probe.see(usePresence('room/2', undefined, { join: false }))
    }
    mount(sb, <Watcher />, { strict })
    await other.presence('room/2').join()
    await waitFor(() => probe.latest?.length === 1, 'the other member')
    expect(probe.latest![0]!.clientId).toBe(other.clientId)
  })
})

describe.each(modes)('useRpc ($label)', ({ strict }) => {
  it('calls a provider and surfaces its errors', async () => {
    const sb = await res.connected(srv.url)
    const provider = await res.connected(srv.url)
    const p = provider.rpc.provide<{ a: number; b: number }, number>('math/add', ({ a, b }) => {
      if (a < 0) throw new Error('negative')
      return a + b
    })
    await p.ready
    const probe = new Probe<(args: { a: number; b: number }) => Promise<number>>()
    function Calc() {
      return probe.see(useRpc<{ a: number; b: number }, number>('math/add'))
    }
    const view = mount(sb, <Calc />, { strict })
    await waitFor(() => probe.latest, 'rendered')
    await expect(probe.latest!({ a: 1, b: 2 })).resolves.toBe(3)
    await expect(probe.latest!({ a: -1, b: 2 })).rejects.toMatchObject({ message: 'negative' })
    view.render(<Calc />)
    await waitFor(() => probe.renders.length >= (strict ? 4 : 2), 're-rendered')
    // Stable while the name is (React 18's StrictMode throws away its first render's memo).
    expect(new Set(probe.renders.slice(strict ? 1 : 0)).size).toBe(1)
  })
})

/** Keeps the type import used (the client type is what the provider takes). */
export type { Switchboard }

describe('server rendering', () => {
  it('renders the initial state and opens nothing', async () => {
    const sb = await res.connected(srv.url)
    function Page() {
      const todo = useRecord<Todo>('todos/ssr')
      const messages = useChannel('chat/ssr')
      const members = usePresence('room/ssr', { name: 'x' })
      return (
        <p>
          {String(todo.ready)}/{messages.length}/{members.length}/{useConnectionState()}
        </p>
      )
    }
    const html = renderToString(
      <SwitchboardProvider client={sb}>
        <Page />
      </SwitchboardProvider>,
    )
    expect(html).toBe('<p>false<!-- -->/<!-- -->0<!-- -->/<!-- -->0<!-- -->/<!-- -->connected</p>')
    await sb.rpc.call('nothing/here').catch(() => {})
    const counts = await received()
    expect([counts.rsub, counts.sub, counts.pjoin, counts.pwatch]).toEqual([undefined, undefined, undefined, undefined])
  })
})
