import {
  createServer,
  type ServerOptions,
  type SwitchboardConfigInput,
  type SwitchboardServer,
} from '@switchboard/server'
import { Switchboard, type SwitchboardError, type SwitchboardOptions, type TransportName } from '@switchboard/client'

/**
 * `SWITCHBOARD_TEST_TRANSPORT=sse` (or `longpoll`, `websocket`): every client a test makes uses
 * that transport only, unless the test names its own. vitest.config.ts runs the client suites
 * once per transport this way.
 */
export const TEST_TRANSPORT = process.env.SWITCHBOARD_TEST_TRANSPORT as TransportName | undefined

export interface TestServer {
  server: SwitchboardServer
  url: string
  port: number
}

/** A real server on an ephemeral loopback port, with in-memory storage and quiet logs. */
export async function startServer(
  config: SwitchboardConfigInput = {},
  options: ServerOptions = {},
): Promise<TestServer> {
  const server = createServer(
    {
      ...config,
      server: { host: '127.0.0.1', port: 0, ...config.server },
      storage: config.storage ?? { type: 'memory' },
      log: { level: (process.env.SWITCHBOARD_TEST_LOG as 'info' | undefined) ?? 'silent' },
    },
    options,
  )
  const { url, port } = await server.listen()
  return { server, url, port }
}

/**
 * A client whose `error` events fail the test unless the test listens for them itself: a test
 * that expects an error says so with its own listener (`sb.on('error', …)`, `nextEvent`).
 */
class TestClient extends Switchboard {
  readonly unexpectedErrors: SwitchboardError[] = []

  constructor(url: string | string[], options: SwitchboardOptions) {
    super(url, options)
    this.on('error', (e) => {
      if (this.listenerCount('error') === 1) this.unexpectedErrors.push(e)
    })
  }
}

/**
 * Tracks everything a test opens so `cleanup()` closes it even when the test failed; cleanup
 * fails the test if a client emitted an `error` nobody listened for.
 */
export class Resources {
  private readonly closers: (() => Promise<unknown> | unknown)[] = []
  private readonly clients: TestClient[] = []

  add<T>(value: T, close: (value: T) => Promise<unknown> | unknown): T {
    this.closers.push(() => close(value))
    return value
  }

  /** `options` plugs in parts (a policy, a store, …) the way embedders do. */
  async server(config?: SwitchboardConfigInput, options?: ServerOptions): Promise<TestServer> {
    const s = await startServer(config, options)
    return this.add(s, (x) => x.server.close())
  }

  client(url: string | string[], options: SwitchboardOptions = {}): Switchboard {
    const sb = new TestClient(url, {
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      ...(TEST_TRANSPORT ? { transports: [TEST_TRANSPORT] } : {}),
      ...options,
    })
    this.clients.push(sb)
    return this.add(sb, (c) => c.close())
  }

  async connected(url: string | string[], options: SwitchboardOptions = {}): Promise<Switchboard> {
    const sb = this.client(url, options)
    await sb.connect()
    return sb
  }

  async cleanup(): Promise<void> {
    const closers = this.closers.splice(0).reverse()
    await Promise.allSettled(closers.map((c) => c()))
    const unexpected = this.clients.splice(0).flatMap((c) => c.unexpectedErrors)
    if (unexpected.length > 0) {
      const list = unexpected.map((e) => `${e.code}: ${e.message}`).join('; ')
      throw new Error(`a client emitted 'error' events the test did not listen for: ${list}`)
    }
  }
}
