import { isValidPattern, type ListenKind } from '@switchboard/protocol'
import type { Connection } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { Listener, type ListenHandler, type ListenOptions } from './listener.js'

/** `sb.listen()`: listeners by kind and pattern, kept registered across reconnects. */
export class Listening {
  private readonly listeners = new Map<string, Listener>()

  constructor(private readonly conn: Connection) {
    conn.push.lact = (m) => this.listeners.get(keyOf(m.k, m.p))?.apply(m.n, m.a)
    conn.push.lend = (m) => {
      const key = keyOf(m.k, m.p)
      const listener = this.listeners.get(key)
      if (!listener) return
      this.listeners.delete(key)
      listener.fail(new SwitchboardError(m.code, m.msg))
    }
    conn.onRestore(() => {
      for (const listener of this.listeners.values()) this.register(listener)
    })
    conn.on('state', (s) => {
      // The server let go of this connection's names when it dropped; it says again after restore.
      if (s === 'connected') return
      for (const listener of this.listeners.values()) listener.deactivateAll()
    })
  }

  listen(pattern: string, handler: ListenHandler, options: ListenOptions = {}): Listener {
    const kind = options.kind ?? 'channel'
    const listener = new Listener(pattern, kind, handler, (l) => this.stop(l))
    const key = keyOf(kind, pattern)
    // A kind other than 'channel' or 'record' (outside TypeScript) is refused by the server.
    if (!isValidPattern(pattern)) {
      listener.fail(new SwitchboardError('INVALID_NAME', `invalid name pattern: ${pattern}`))
    } else if (this.listeners.has(key)) {
      listener.fail(new SwitchboardError('ALREADY_LISTENING', `this client already listens to ${kind} ${pattern}`))
    } else {
      this.listeners.set(key, listener)
      if (this.conn.state === 'connected') this.register(listener)
    }
    return listener
  }

  private register(listener: Listener): void {
    this.conn.request({ t: 'lsn', k: listener.kind, p: listener.pattern }).then(
      () => listener.confirm(),
      (error: SwitchboardError) => {
        // A dropped connection is not a failure: the listener is registered again on reconnect.
        if (error.code === 'DISCONNECTED' || error.code === 'CLOSED') return
        const key = keyOf(listener.kind, listener.pattern)
        if (this.listeners.get(key) === listener) this.listeners.delete(key)
        listener.fail(error)
      },
    )
  }

  private async stop(listener: Listener): Promise<void> {
    const key = keyOf(listener.kind, listener.pattern)
    if (this.listeners.get(key) !== listener) return
    this.listeners.delete(key)
    if (this.conn.state !== 'connected') return
    await this.conn.request({ t: 'unlsn', k: listener.kind, p: listener.pattern }).catch(() => {})
  }
}

function keyOf(kind: ListenKind, pattern: string): string {
  return `${kind} ${pattern}`
}
