import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stringify } from 'yaml'
import { CliServer } from './cli-server.js'
import { waitFor } from './wait.js'

/** Where the nodes' engine lives: one Redis server or a Redis Cluster. */
export type RedisTarget = { url: string } | { cluster: string[] }

export interface ClusterNodesOptions {
  redis: RedisTarget
  /** Key prefix shared by the nodes (one cluster). */
  prefix: string
  /** Record storage the nodes share (PostgreSQL URL). */
  postgresUrl: string
  /** `engine.nodeTimeout`: how long a dead node's presence members and providers linger. */
  nodeTimeout?: string
  /** Extra config merged at the top level (channels, presence, …). */
  config?: Record<string, unknown>
}

/**
 * Switchboard nodes as separate processes (`switchboard start`, the built CLI), each on its own
 * ephemeral port, joined through one Redis prefix and sharing PostgreSQL storage: the way a
 * cluster runs in production, so `kill -9` of one is a real crash.
 */
export class ClusterNodes {
  readonly nodes: CliServer[] = []
  private readonly dir: string
  readonly configFile: string

  constructor(readonly options: ClusterNodesOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'sb-cluster-'))
    this.configFile = join(this.dir, 'switchboard.yaml')
    const config = {
      engine: { type: 'redis', ...options.redis, prefix: options.prefix, nodeTimeout: options.nodeTimeout ?? '20s' },
      storage: { type: 'postgres', url: options.postgresUrl },
      log: { level: 'warn' },
      ...options.config,
    }
    writeFileSync(this.configFile, stringify(config))
  }

  /** Starts one more node; resolves once its /readyz answers 200. */
  async start(): Promise<CliServer> {
    const node = await CliServer.start({ args: ['--config', this.configFile] })
    this.nodes.push(node)
    return node
  }

  /** `kill -9` of node `i`, then the same node started again on its port (the clients know its URL). */
  async crashAndRestart(i: number, downMs = 0): Promise<CliServer> {
    const old = this.nodes[i] as CliServer
    await old.kill()
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs))
    const port = Number(new URL(old.url).port)
    const node = await CliServer.start({ args: ['--config', this.configFile], port })
    this.nodes[i] = node
    return node
  }

  async startMany(n: number): Promise<CliServer[]> {
    const started: CliServer[] = []
    for (let i = 0; i < n; i++) started.push(await this.start())
    return started
  }

  /** Resolves once `url`'s /readyz answers `status`. */
  static async readyz(url: string, status: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.status === status,
      `${url}/readyz to answer ${status}`,
      timeoutMs,
      50,
    )
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()))
    this.nodes.length = 0
    rmSync(this.dir, { recursive: true, force: true })
  }
}
