import WebSocket from 'ws'

/** A bare protocol client for tests that need to send exactly the bytes they choose. */
export class RawClient {
  readonly messages: Record<string, unknown>[] = []
  closed: { code: number; reason: string } | undefined
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const v = JSON.parse(data.toString()) as unknown
      for (const m of Array.isArray(v) ? v : [v]) this.messages.push(m as Record<string, unknown>)
    })
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }))
    ws.on('error', () => {})
  }

  /** Opens a connection; unless `hello: false`, says hello (with `token` if given) and waits for the welcome. */
  static async open(
    url: string,
    options: { hello?: boolean; token?: string; headers?: Record<string, string> } = {},
  ): Promise<RawClient> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers: options.headers })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    const client = new RawClient(ws)
    if (options.hello !== false) {
      client.send(
        options.token === undefined ? { t: 'hello', id: 0, v: 1 } : { t: 'hello', id: 0, v: 1, token: options.token },
      )
      await client.waitFor((m) => m.t === 'welcome')
    }
    return client
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** Waits (bounded) for a message matching `match` and returns it. */
  async waitFor(match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const found = this.messages.find(match)
      if (found) return found
      if (this.closed) throw new Error(`closed (${this.closed.code} ${this.closed.reason}) before a matching message`)
      if (Date.now() > until)
        throw new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 500)}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const until = Date.now() + timeoutMs
    while (!this.closed) {
      if (Date.now() > until) throw new Error(`not closed within ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 5))
    }
    return this.closed
  }

  close(): void {
    this.ws.terminate()
  }
}
