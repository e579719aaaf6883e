import net from 'node:net'

/**
 * A loopback TCP proxy for fault injection: `cut()` drops every connection at once (the
 * client sees the TCP connection die), `down()`/`up()` refuse connections, `silence()` drops
 * bytes, `stall()` stops reading from the server (a client that stops reading).
 * `hold()` holds every byte both ways until `hold(false)`.
 */
export class TcpProxy {
  private readonly server: net.Server
  private readonly pairs = new Set<[net.Socket, net.Socket]>()
  private blackhole = false
  private stalled = false
  private refusing = false
  private held = false
  port = 0

  constructor(private readonly targetPort: number) {
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

  /**
   * Holds every byte both ways, losing none, until `hold(false)`: connections are accepted
   * but nothing gets an answer (a database slow to respond). Applies to new connections too.
   */
  hold(on = true): void {
    this.held = on
    for (const pair of this.pairs) {
      for (const socket of pair) {
        if (on) socket.pause()
        else socket.resume()
      }
    }
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
    const upstream = net.connect(this.targetPort, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    this.pairs.add(pair)
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (!this.blackhole) to.write(chunk)
      })
    forward(client, upstream)
    forward(upstream, client)
    if (this.stalled) upstream.pause()
    if (this.held) for (const socket of pair) socket.pause()
    const end = () => {
      this.pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  }
}
