/**
 * `switchboard start --workers N`: N processes on one port, joined through the Redis engine.
 * Needs `npm run build`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from 'redis'
import { stringify } from 'yaml'
import { CliServer } from '../support/cli-server.js'
import { assertRedisReachable, dropPrefix, redisUrl, uniquePrefix } from '../support/redis.js'
import { Resources } from '../support/server.js'
import { waitFor } from '../support/wait.js'

const res = new Resources()
afterEach(() => res.cleanup())
const prefix = uniquePrefix()
const dir = mkdtempSync(join(tmpdir(), 'sb-workers-'))
const redis = createClient({ url: redisUrl() })
redis.on('error', () => {})

beforeAll(async () => {
  await assertRedisReachable()
  await redis.connect()
})
afterAll(async () => {
  await redis.close()
  await dropPrefix(prefix)
  rmSync(dir, { recursive: true, force: true })
})

const liveNodes = async () => Number(await redis.sendCommand(['ZCARD', `${prefix}{nodes}`]))

describe('switchboard start --workers', () => {
  it('refuses with the in-process engine, naming engine: redis', async () => {
    await expect(CliServer.start({ args: ['--workers', '2'] })).rejects.toThrow(
      /--workers 2 needs a cluster engine: set engine: \{ type: redis/,
    )
  })

  it('runs N processes on one port, joined through Redis; SIGTERM drains them all', async () => {
    const config = join(dir, 'switchboard.yaml')
    writeFileSync(
      config,
      stringify({
        engine: { type: 'redis', url: redisUrl(), prefix, nodeId: 'web' },
        storage: { type: 'memory' },
        log: { level: 'warn' },
      }),
    )
    const server = await CliServer.start({ args: ['--workers', '3', '--config', config] })
    res.add(server, (s) => s.kill())
    await waitFor(async () => (await liveNodes()) === 3, 'three workers in the node directory')
    const members = (await redis.sendCommand(['ZRANGE', `${prefix}{nodes}`, '0', '-1'])) as string[]
    expect(members.sort()).toEqual(['web-0', 'web-1', 'web-2'])

    // Connections spread over the workers; channels work across them.
    const clients = await Promise.all(Array.from({ length: 6 }, () => res.connected(server.url)))
    const got = clients.map(() => [] as unknown[])
    await Promise.all(clients.map((sb, i) => sb.subscribe('w/all', (d) => got[i]!.push(d)).ready))
    for (let i = 0; i < 5; i++) await clients[i % clients.length]!.publish('w/all', i)
    await waitFor(() => got.every((g) => g.length === 5), 'every client to get every publication')
    for (const g of got) expect(g).toEqual([0, 1, 2, 3, 4])

    expect(await server.stop()).toBe(0)
    expect(server.output).toContain('all workers stopped')
    expect(await liveNodes()).toBe(0)
  })
})
