// A dedicated, throw-away `redis-server` per measured system: its INFO commandstats and CPU then
// belong to that system alone. No persistence; stopped by its own PID (never by name).
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { createClient } from 'redis'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const running = new Set()

/** SIGKILL every Redis this process started and has not stopped (exit handler). */
export function killAllRedis() {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  running.clear()
}

/** A port the kernel just handed out, free again (a small race, acceptable for a bench). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/**
 * Starts redis-server at the given priority and CPU (same wrappers as bench/lib/ipc.mjs:
 * prlimit --rttime + chrt -f for real time, taskset to pin; each execs the next, so the PID is
 * redis-server's own). Resolves once it answers PING; `client` is the runner's own connection
 * (its INFO calls are left out of the counts).
 */
export async function startRedis({ rt = 0, nice = 0, pinCpu } = {}) {
  const port = await freePort()
  const wrap = []
  if (rt) wrap.push('prlimit', '--rttime=120000000:130000000', 'chrt', '-f', String(rt))
  else if (nice) wrap.push('nice', '-n', String(nice))
  if (pinCpu !== undefined) wrap.push('taskset', '-c', String(pinCpu))
  const cmd = [
    ...wrap,
    'redis-server',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ]
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], detached: true })
  running.add(child.pid)
  // As bench/lib/ipc.mjs: with autogroup scheduling a nice level counts inside the session's group.
  if (nice) {
    try {
      writeFileSync(`/proc/${child.pid}/autogroup`, String(nice))
    } catch {}
  }
  let exited = false
  child.once('exit', () => {
    exited = true
    running.delete(child.pid)
  })
  const url = `redis://127.0.0.1:${port}`
  const client = createClient({ url, socket: { reconnectStrategy: false } })
  client.on('error', () => {})
  const deadline = Date.now() + 10000
  for (;;) {
    try {
      await client.connect()
      await client.ping()
      break
    } catch (err) {
      if (exited || Date.now() > deadline) {
        stop(child.pid)
        throw new Error(`redis-server on port ${port} did not start: ${err?.message ?? err}`)
      }
      await sleep(100)
    }
  }
  return {
    url,
    pid: child.pid,
    /** CPU (µs, user + system, all threads) and calls per command since start. */
    async sample() {
      const [cpu, stats] = await Promise.all([client.info('cpu'), client.info('commandstats')])
      return { cpuUs: parseCpu(cpu), calls: parseCommandStats(stats) }
    },
    async stop() {
      try {
        await client.quit()
      } catch {}
      await stop(child.pid, () => exited)
    },
  }
}

async function stop(pid, gone = () => false) {
  try {
    process.kill(pid, 'SIGTERM')
  } catch {}
  for (let i = 0; i < 30 && !gone(); i++) await sleep(100)
  if (!gone()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  running.delete(pid)
}

function parseCpu(info) {
  const field = (name) => Number(new RegExp(`^${name}:([0-9.]+)`, 'm').exec(info)?.[1] ?? NaN)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6
}

/** `cmdstat_evalsha:calls=12,usec=…` → { evalsha: 12, … }; the runner's own INFO left out. */
function parseCommandStats(info) {
  const out = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'info') out[m[1]] = Number(m[2])
  return out
}

/** Calls per command between two samples, busiest first. */
export function callDelta(a, b) {
  return Object.fromEntries(
    Object.entries(b.calls)
      .map(([k, v]) => [k, v - (a.calls[k] ?? 0)])
      .filter(([, v]) => v > 0)
      .sort((x, y) => y[1] - x[1]),
  )
}
