// A Switchboard server as `switchboard start --workers N` (node:cluster: N processes on one port,
// joined through the Redis engine), for benches that need more sockets than one process's
// `ulimit -n`. Each worker is a node of its own: its own descriptor limit, admission bucket
// (`limits.connectsPerSecond`) and per-address counts (`limits.maxConnectionsPerIp`).
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { dropKeys } from '../lib/redis-keys.mjs'

const CLI = fileURLToPath(new URL('../../packages/cli/bin/switchboard.js', import.meta.url))
const API_KEY = 'bench-cluster-server'
const run = promisify(execFile)

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })

/**
 * Starts the primary and waits until all `workers` say they listen. `config` is merged over a
 * Redis engine with a prefix of its own, memory storage and an API key for `publish`.
 */
export async function startClusterServer({ workers, redis, config = {}, name = 'bench' }) {
  const dir = mkdtempSync(join(tmpdir(), `sb-${name}-`))
  const prefix = `sb-${name}-${process.pid}:`
  const port = await freePort()
  // JSON is YAML: no YAML library needed here.
  writeFileSync(
    join(dir, 'switchboard.yaml'),
    JSON.stringify({
      engine: { type: 'redis', url: redis, prefix },
      storage: { type: 'memory' },
      auth: { anonymous: true, apiKeys: [API_KEY] },
      log: { level: 'error' },
      ...config,
    }),
  )
  const child = spawn(
    process.execPath,
    [
      CLI,
      'start',
      '--workers',
      String(workers),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--config',
      'switchboard.yaml',
    ],
    { cwd: dir, env: { ...process.env, NODE_ENV: 'development' }, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)))
  let stderr = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`workers not listening after 30 s:\n${stderr}`)), 30_000)
    let listening = 0
    child.stderr.on('data', (d) => {
      stderr += d
      listening = (stderr.match(/worker \d+ listening on/g) ?? []).length
      if (listening === workers) {
        clearTimeout(timer)
        resolve()
      }
    })
    exited.then((how) => {
      clearTimeout(timer)
      reject(new Error(`switchboard start exited (${how}):\n${stderr}`))
    })
  })
  const url = `http://127.0.0.1:${port}`
  const workerPids = () => {
    try {
      return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
    } catch {
      return [] // the primary is gone
    }
  }
  return {
    port,
    url,
    /** The workers' process ids (the primary's children). */
    workerPids,
    /** Publishes through the HTTP API, on whichever worker takes the request; the engine carries it to the rest. */
    async publish(channel, data) {
      const r = await fetch(`${url}/api/publish`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ channel, data }),
      })
      if (!r.ok) throw new Error(`publish: HTTP ${r.status} ${await r.text()}`)
      return r.json()
    },
    /** SIGTERM (the primary drains its workers), SIGKILL after 10 s. */
    async stop() {
      const pids = workerPids()
      child.kill('SIGTERM')
      const t = setTimeout(() => {
        child.kill('SIGKILL')
        for (const pid of pids) kill(pid)
      }, 10_000)
      await exited
      clearTimeout(t)
      rmSync(dir, { recursive: true, force: true })
      await dropKeys(redis, prefix)
    },
    kill: () => child.kill('SIGKILL'),
  }
}

function kill(pid) {
  try {
    process.kill(Number(pid), 'SIGKILL')
  } catch {
    // already gone
  }
}

/**
 * Open descriptors of a process (Linux): a worker's sockets plus its few dozen own. Read off the
 * event loop (a listing of 10,000 entries would stall the bench's own timing).
 */
export async function openDescriptors(pid) {
  return (await readdir(`/proc/${pid}/fd`).catch(() => [])).length
}

/**
 * Which process holds each established connection to `port` (Linux, `ss -p`): a Map from the
 * client's `address:port` to the holding process id. One call after the flood, not during it:
 * `ss -p` reads every process's descriptor table.
 */
export async function socketOwners(port) {
  const { stdout } = await run('ss', ['-tnpH', 'state', 'established', `( sport = :${port} )`], {
    maxBuffer: 256 * 1024 * 1024,
  })
  const owners = new Map()
  for (const line of stdout.split('\n')) {
    const m = /\S+:\d+\s+(\S+:\d+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(line)
    if (m) owners.set(m[1].replace(/^\[::ffff:(.*)\]/, '$1'), m[2])
  }
  return owners
}
