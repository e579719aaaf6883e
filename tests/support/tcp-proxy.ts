import net from 'node:net'

/**
 * A loopback TCP proxy for fault injection: `cut()` drops every connection at once (the
 * client sees the TCP connection die), `down()`/`up()` refuse connections, `silence()` drops
 * bytes, `hold()` keeps them (in order) until released: a stalled link; `stall()` stops reading
 * from the server (a client too slow to read: the server's buffers fill). `latency(ms)` delays
 * every chunk both ways by `ms`, keeping their order.
 */
export class TcpProxy {
  private readonly server: net.Server
  private readonly pairs = new Set<[net.Socket, net.Socket]>()
  private blackhole = false
  private refusing = false
  private stalled = false
  private holding: 'both' | 'toClient' | false = false
  private readonly held: { chunk: Buffer; deliver: () => void }[] = []
  private delayMs = 0
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
    for (const [a, b] of this.pairs) {
      a.destroy()
      b.destroy()
    }
    this.pairs.clear()
  }

  /** Cuts every connection and refuses new ones until `up()`: the server looks unreachable. */
  down(): void {
    this.refusing = true
    this.cut()
  }

  up(): void {
    this.refusing = false
  }

  /** Keeps connections open but silently drops all bytes both ways (a dead peer). */
  silence(on = true): void {
    this.blackhole = on
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
    for (const [, upstream] of this.pairs) {
      if (on) upstream.pause()
      else upstream.resume()
    }
  }

  /** Delays every chunk, both ways, by `ms` from now on (0 = none); order is kept. */
  latency(ms: number): void {
    this.delayMs = Math.max(0, ms)
  }

  /** What is being held so far, as text (to wait until a peer has sent something). */
  heldText(): string {
    return Buffer.concat(this.held.map((h) => h.chunk)).toString('latin1')
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: net.Socket): void {
    if (this.refusing) {
      client.destroy()
      return
    }
    const target = this.targets[this.next++ % this.targets.length] as number
    this.accepted.set(target, (this.accepted.get(target) ?? 0) + 1)
    const upstream = net.connect(target, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    this.pairs.add(pair)
    const forward = (from: net.Socket, to: net.Socket, toClient: boolean) => {
      const write = this.delayedWriter(to)
      from.on('data', (chunk: Buffer) => {
        if (this.blackhole) return
        if (this.holding === 'both' || (this.holding === 'toClient' && toClient)) {
          this.held.push({ chunk, deliver: () => write(chunk) })
        } else write(chunk)
      })
    }
    forward(client, upstream, false)
    forward(upstream, client, true)
    if (this.stalled) upstream.pause()
    const end = () => {
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
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
