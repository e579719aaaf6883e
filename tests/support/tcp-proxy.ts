import net from 'node:net'

interface Pair {
  client: net.Socket
  upstream: net.Socket
  /** The response to the request just forwarded is to be dropped, and the connection cut. */
  dropNext?: (dropped: string) => void
  /** Bytes were dropped while silenced: the stream has a hole, and TCP cannot go on from it. */
  holed?: boolean
}

/**
 * A loopback TCP proxy for fault injection: `cut()` drops every connection at once (the
 * client sees the TCP connection die), `down()`/`up()` refuse connections, `silence()` drops
 * bytes, `hold()` keeps them (in order) until released: a stalled link; `stall()` stops reading
 * from the server (a client too slow to read: the server's buffers fill). `latency(ms)` delays
 * every chunk both ways by `ms`, keeping their order.
 * It also plays a few HTTP-aware middleboxes: one that refuses WebSocket upgrades, and one that
 * loses the response to a chosen request after the server has handled it.
 */
export class TcpProxy {
  private readonly server: net.Server
  private readonly pairs = new Set<Pair>()
  private blackhole = false
  private refusing: boolean | 'noting' = false
  /** `METHOD /path` of each connection refused by `down(true)`, in order. */
  readonly refused: string[] = []
  private stalled = false
  private holding: 'both' | 'toClient' | false = false
  private readonly held: { chunk: Buffer; deliver: () => void }[] = []
  private delayMs = 0
  private upgradesRefused = false
  private dropArmed: { pattern: RegExp; resolve: (dropped: string) => void } | undefined
  /** `METHOD /path` of every HTTP request that went through, in order. */
  readonly requests: string[] = []
  port = 0
  /** Connections made to each target port (round robin over several: a load balancer without stickiness). */
  readonly accepted = new Map<number, number>()
  private readonly targets: number[]
  private next = 0

  constructor(target: number | number[]) {
    this.targets = Array.isArray(target) ? target : [target]
    this.server = net.createServer((client) => this.accept(client))
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as net.AddressInfo).port
    return this
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get connections(): number {
    return this.pairs.size
  }

  /** Destroys every proxied connection. */
  cut(): void {
    for (const pair of this.pairs) this.drop(pair)
  }

  /** Destroys one proxied connection, both sides. */
  private drop(pair: Pair): void {
    this.pairs.delete(pair)
    pair.client.destroy()
    pair.upstream.destroy()
  }

  /**
   * Cuts every connection and refuses new ones until `up()`: the server looks unreachable.
   * `noting`: each refused connection is first read for its request line (into `refused`), then
   * destroyed — to the client it fails to open all the same.
   */
  down(noting = false): void {
    this.refusing = noting ? 'noting' : true
    this.cut()
  }

  up(): void {
    this.refusing = false
  }

  /**
   * Keeps connections open but silently drops all bytes both ways (a dead peer). Back on, the
   * connections that lost bytes are reset: real TCP either delivers a stream whole or fails it,
   * so one that had a request swallowed (a reconnect tried during the outage) must not hang on
   * as if it were only slow.
   */
  silence(on = true): void {
    this.blackhole = on
    if (on) return
    for (const pair of this.pairs) if (pair.holed) this.drop(pair)
  }

  /**
   * Keeps bytes until `hold(false)` delivers them, in order: both ways, or only those going to
   * the client (the server receives and acts, its answers wait).
   */
  hold(on = true, direction: 'both' | 'toClient' = 'both'): void {
    this.holding = on ? direction : false
    if (!on) for (const { deliver } of this.held.splice(0)) deliver()
  }

  /**
   * Stops reading what the server sends (on = true) and resumes it (on = false): the bytes wait
   * in the socket buffers and the server's own buffer fills, as with a client too slow to read.
   */
  stall(on = true): void {
    this.stalled = on
    for (const { upstream } of this.pairs) {
      if (on) upstream.pause()
      else upstream.resume()
    }
  }

  /** What is being held so far, as text (to wait until a peer has sent something). */
  heldText(): string {
    return Buffer.concat(this.held.map((h) => h.chunk)).toString('latin1')
  }

  /** While on, WebSocket upgrades are answered 404, like a proxy that strips `Upgrade`. */
  refuseUpgrades(on = true): void {
    this.upgradesRefused = on
  }

  /**
   * The next request whose bytes match `pattern` reaches the server, but the server's response
   * is thrown away and the connection cut: the client never learns the answer. Resolves with
   * the bytes dropped.
   */
  dropResponseTo(pattern: RegExp): Promise<string> {
    return new Promise((resolve) => (this.dropArmed = { pattern, resolve }))
  }

  /** Delays every chunk, both ways, by `ms` from now on (0 = none); order is kept. */
  latency(ms: number): void {
    this.delayMs = Math.max(0, ms)
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      client.on('error', () => {})
      if (this.refusing === true) return void client.destroy()
      client.once('data', (chunk: Buffer) => {
        const line = /^(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD) (\S+)/.exec(chunk.toString('latin1'))
        this.refused.push(line ? `${line[1]} ${line[2]}` : '?')
        client.destroy()
      })
      return
    }
    const target = this.targets[this.next++ % this.targets.length] as number
    this.accepted.set(target, (this.accepted.get(target) ?? 0) + 1)
    const upstream = net.connect(target, '127.0.0.1')
    const pair: Pair = { client, upstream }
    this.pairs.add(pair)
    const writeUpstream = this.delayedWriter(upstream)
    const writeClient = this.delayedWriter(client)
    const deliver = (to: net.Socket, chunk: Buffer, toClient: boolean) => {
      if (this.blackhole) return void (pair.holed = true)
      const write = to === client ? writeClient : writeUpstream
      if (this.holding === 'both' || (this.holding === 'toClient' && toClient)) {
        this.held.push({ chunk, deliver: () => write(chunk) })
      } else write(chunk)
    }
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1')
      for (const m of text.matchAll(/^(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD) (\S+)/gm)) {
        this.requests.push(`${m[1]} ${m[2]}`)
      }
      if (this.upgradesRefused && /^upgrade: *websocket/im.test(text)) {
        client.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
        upstream.destroy()
        return
      }
      if (this.dropArmed?.pattern.test(text)) {
        pair.dropNext = this.dropArmed.resolve
        this.dropArmed = undefined
      }
      deliver(upstream, chunk, false)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (pair.dropNext) {
        pair.dropNext(chunk.toString())
        pair.dropNext = undefined
        end()
        return
      }
      deliver(client, chunk, true)
    })
    if (this.stalled) upstream.pause()
    const end = () => this.drop(pair)
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  }

  /**
   * Writes to `to` after the current latency. Delayed chunks wait in one queue per direction,
   * drained by one timer: they leave in order, as TCP's would, even when the latency changes.
   */
  private delayedWriter(to: net.Socket): (chunk: Buffer) => void {
    const delayed: { at: number; chunk: Buffer }[] = []
    let timer: ReturnType<typeof setTimeout> | undefined
    const drain = () => {
      timer = undefined
      while (delayed.length > 0 && (delayed[0] as { at: number }).at <= Date.now()) {
        const { chunk } = delayed.shift() as { chunk: Buffer }
        if (!to.destroyed) to.write(chunk)
      }
      if (delayed.length > 0) timer = setTimeout(drain, (delayed[0] as { at: number }).at - Date.now())
    }
    to.once('close', () => clearTimeout(timer))
    return (chunk) => {
      if (this.delayMs === 0 && delayed.length === 0) {
        if (!to.destroyed) to.write(chunk)
        return
      }
      const last = delayed[delayed.length - 1]?.at ?? 0
      delayed.push({ at: Math.max(Date.now() + this.delayMs, last), chunk })
      timer ??= setTimeout(drain, Math.max(0, (delayed[0] as { at: number }).at - Date.now()))
    }
  }
}
