import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createClient } from 'redis'
import { waitFor } from './wait.js'

const run = promisify(execFile)

/**
 * The Redis the tests share: the real server on this machine (REDIS_URL, default
 * redis://127.0.0.1:6379). Tests that need it fail when it is unreachable; they never skip.
 * Each test run uses its own key prefix (`uniquePrefix`) and deletes its keys afterwards.
 */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
}

/** A key prefix no other run uses. */
export function uniquePrefix(): string {
  return `sbtest:${randomBytes(5).toString('hex')}:`
}

/** Fails with a clear message when the shared Redis is not there. */
export async function assertRedisReachable(url = redisUrl()): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 3000 } })
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (err) {
    throw new Error(`Redis is not reachable at ${url} (${(err as Error).message}); these tests need it`)
  }
  await client.close()
}

/** Deletes every key under `prefix` on each of the given servers (each master of a cluster). */
export async function dropPrefix(prefix: string, urls: string[] = [redisUrl()]): Promise<void> {
  for (const url of urls) {
    const client = createClient({ url, socket: { reconnectStrategy: false } })
    client.on('error', () => {})
    await client.connect()
    try {
      let cursor = '0'
      do {
        const reply = (await client.sendCommand(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
          string,
          string[],
        ]
        cursor = reply[0]
        // One DEL per key: on a cluster node the keys of one batch live in different slots.
        for (const key of reply[1]) await client.sendCommand(['DEL', key])
      } while (cursor !== '0')
    } finally {
      await client.close()
    }
  }
}

/** A free TCP port on loopback whose cluster bus port (+10000) is free as well. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port
  }
  throw new Error('no free port pair found')
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/**
 * A redis-server of the test's own (no persistence) on a free port, for tests that stop and
 * restart Redis. `stop()` kills it by PID; `start()` runs it again on the same port, empty.
 */
export class OwnRedis {
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  static async start(extraArgs: string[] = []): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePortPair(), mkdtempSync(join(tmpdir(), 'sb-redis-')), extraArgs)
    await redis.start()
    return redis
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        ...this.extraArgs,
      ],
      { stdio: 'ignore' },
    )
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server on port ${this.port} exited (${child.exitCode})`)
        return (await ping(this.port)) === 'PONG'
      },
      `redis-server on port ${this.port}`,
      10_000,
      20,
    )
  }

  /** Kills the server (SIGKILL: no chance to save anything). */
  async stop(): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await this.exited
  }

  async destroy(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** A Redis Cluster of three masters (no replicas), each its own process on free ports. */
export class RedisClusterProcesses {
  private constructor(private readonly nodes: OwnRedis[]) {}

  /** Seed URLs, one per master. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url)
  }

  static async start(): Promise<RedisClusterProcesses> {
    const nodes: OwnRedis[] = []
    try {
      for (let i = 0; i < 3; i++) {
        // The cluster config file lands in the server's own directory (redis-server runs there).
        nodes.push(await OwnRedis.start(['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']))
      }
      const cluster = new RedisClusterProcesses(nodes)
      await run(
        'redis-cli',
        ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 30_000 },
      )
      for (const n of nodes) {
        await waitFor(
          async () =>
            (await run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])).stdout.includes('cluster_state:ok'),
          `cluster node ${n.port} to report cluster_state:ok`,
          20_000,
          50,
        )
      }
      return cluster
    } catch (err) {
      await Promise.all(nodes.map((n) => n.destroy()))
      throw err
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()))
  }
}

async function ping(port: number): Promise<string> {
  try {
    return (await run('redis-cli', ['-p', String(port), 'ping'], { timeout: 2000 })).stdout.trim()
  } catch {
    return ''
  }
}
