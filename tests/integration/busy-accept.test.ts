import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION } from '@switchboard/protocol'
import type { EncodedFrame, Transport, TransportSink } from '@switchboard/server'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())

/** An in-process subscriber whose every frame costs `costMs` of CPU (a busy node's socket writes). */
class CostlySubscriber implements Transport {
  readonly kind = 'memory'
  readonly remoteAddress = '127.0.0.1'
  costMs = 0
  onPublication: (() => void) | undefined
  readonly got: string[] = []
  send(frame: EncodedFrame): void {
    const until = performance.now() + this.costMs
    while (performance.now() < until);
    this.got.push(frame.text)
    if (frame.text.includes('"t":"msg"')) this.onPublication?.()
  }
  close(): void {}
  bufferedBytes(): number {
    return 0
  }
}

/**
 * Connects `count` sockets to `port` and sends WebSocket upgrades once the file `go` appears,
 * then writes `connected`: a process of its own, so its connections queue at the server while
 * the server's event loop is busy.
 */
const CONNECTOR = `
const net = require('node:net'), fs = require('node:fs')
const [port, count, dir] = process.argv.slice(1)
const request = 'GET /ws HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n'
const go = () => {
  if (!fs.existsSync(dir + '/go')) return setTimeout(go, 2)
  let open = 0
  for (let i = 0; i < Number(count); i++) {
    const s = net.connect(Number(port), '127.0.0.1', () => {
      s.write(request)
      if (++open === Number(count)) fs.writeFileSync(dir + '/connected', '')
    })
    s.on('error', () => {})
    s.resume()
  }
}
go()
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
`

describe('a node busy fanning out', () => {
  it('keeps accepting connections while one publication goes out to many subscribers', async () => {
    const { server, port } = await res.server({ limits: { maxConnectionsPerIp: 0 } })
    const subscribers = Array.from({ length: 300 }, () => new CostlySubscriber())
    for (const s of subscribers) {
      const sink: TransportSink = server.accept(s)
      sink.onFrame(JSON.stringify({ t: 'hello', id: 0, v: PROTOCOL_VERSION }))
      sink.onFrame(JSON.stringify({ t: 'sub', id: 1, ch: 'busy/feed' }))
    }
    await waitFor(() => subscribers.every((s) => s.got.some((f) => f.includes('"id":1'))), 'every subscription')
    expect(server.connectionCount()).toBe(300)

    // Eight connections from another process reach the listen queue while the fan-out runs.
    const dir = mkdtempSync(join(tmpdir(), 'sb-busy-accept-'))
    res.add(dir, (d) => rmSync(d, { recursive: true, force: true }))
    const connector = spawn(process.execPath, ['-e', CONNECTOR, String(port), '8', dir], {
      stdio: ['pipe', 'ignore', 'inherit'],
    })
    res.add(connector, (c) => c.kill())
    let delivered = 0
    let upgradedDuringFanOut = -1
    const onPublication = () => {
      if (++delivered === 1) {
        // Inside the fan-out: hold the event loop until the connections wait in the listen queue.
        writeFileSync(join(dir, 'go'), '')
        const until = Date.now() + 20_000
        while (!existsSync(join(dir, 'connected')) && Date.now() < until);
      }
      if (delivered === subscribers.length) upgradedDuringFanOut = server.connectionCount() - subscribers.length
    }
    for (const s of subscribers) s.onPublication = onPublication
    // 300 subscribers at 1 ms each: a fan-out of 300 ms.
    for (const s of subscribers) s.costMs = 1
    await server.publish('busy/feed', { n: 1 })
    await waitFor(() => upgradedDuringFanOut >= 0, 'the fan-out to reach the last subscriber')
    // Node accepts one connection per turn of its event loop: a fan-out done in one turn let none
    // of them in before it ended.
    expect(upgradedDuringFanOut).toBe(8)
    await waitFor(() => server.connectionCount() === 308, 'every connection')
  }, 30_000)
})
