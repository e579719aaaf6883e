// Raw `ws` RPC relay: the least a server can do to relay a call. It speaks the subset of the
// Switchboard wire protocol the load generator uses, so both are driven by the same client:
//   {"t":"hello","id":1,"v":1}                       → {"t":"welcome","id":1}
//   {"t":"prov","id":2,"n":"bench/echo"}             → {"t":"ok","id":2}
//   caller {"t":"rpc","id":3,"n":"bench/echo","a":…} → provider {"t":"inv","c":9,"n":"bench/echo","a":…}
//   provider {"t":"rpcres","c":9,"r":…}               → caller {"t":"ok","id":3,"r":…}
// Round-robin over providers, a map of calls in flight; no timeouts, no validation.
import { WebSocketServer } from 'ws'
import { runServer } from '../../servers/common.mjs'

runServer('rpc-ws', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await new Promise((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  const pools = new Map() // name -> { list: WebSocket[], next: number }
  const calls = new Map() // c -> { ws, id }
  let seq = 0

  const drop = (ws) => {
    for (const pool of pools.values()) {
      const i = pool.list.indexOf(ws)
      if (i >= 0) pool.list.splice(i, 1)
    }
  }

  wss.on('connection', (ws) => {
    ws.on('error', () => {})
    ws.on('close', () => drop(ws))
    ws.on('message', (data) => {
      let m
      try {
        m = JSON.parse(data)
      } catch {
        return
      }
      switch (m.t) {
        case 'rpc': {
          const pool = pools.get(m.n)
          if (!pool || pool.list.length === 0) {
            ws.send(JSON.stringify({ t: 'err', id: m.id, code: 'NO_PROVIDER', msg: 'no provider' }))
            return
          }
          const provider = pool.list[pool.next++ % pool.list.length]
          const c = ++seq
          calls.set(c, { ws, id: m.id })
          provider.send(JSON.stringify({ t: 'inv', c, n: m.n, a: m.a }))
          return
        }
        case 'rpcres': {
          const call = calls.get(m.c)
          if (!call) return
          calls.delete(m.c)
          call.ws.send(JSON.stringify({ t: 'ok', id: call.id, r: m.r }))
          return
        }
        case 'prov': {
          let pool = pools.get(m.n)
          if (!pool) pools.set(m.n, (pool = { list: [], next: 0 }))
          pool.list.push(ws)
          ws.send(JSON.stringify({ t: 'ok', id: m.id }))
          return
        }
        case 'hello':
          ws.send(JSON.stringify({ t: 'welcome', id: m.id, v: 1 }))
          return
      }
    })
  })

  return {
    port: wss.address().port,
    info: { mode: 'JSON relay, ws.send per frame' },
    stats: () => ({ clients: wss.clients.size, inFlight: calls.size }),
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate()
        wss.close(() => resolve())
      }),
  }
})
