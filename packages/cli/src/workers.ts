import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { InvalidArgumentError } from 'commander'
import { say } from './output.js'

/**
 * Set in each worker's environment: its index (0…N-1), stable across restarts of that worker.
 * Not `SWITCHBOARD_*`: those are config keys.
 */
export const WORKER_INDEX_ENV = 'SB_WORKER_INDEX'
/** The message a primary sends its workers to drain and stop (signals may reach them twice otherwise). */
export const SHUTDOWN_MESSAGE = 'switchboard:shutdown'
/** The message a worker sends once it listens. */
export const READY_MESSAGE = 'switchboard:ready'

/** A worker that crashed is started again after this long. */
const RESTART_DELAY_MS = 1000

export function parseWorkers(value: string): number {
  if (value === 'auto') return availableParallelism()
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 1024) throw new InvalidArgumentError('expected a number of workers or auto')
  return n
}

/** This process's worker index when it runs as one of `--workers`, else undefined. */
export function workerIndex(): number | undefined {
  if (!cluster.isWorker) return undefined
  const raw = process.env[WORKER_INDEX_ENV]
  return raw === undefined ? undefined : Number(raw)
}

/** The environment variable with which Node lets an operator choose node:cluster's policy. */
const SCHED_POLICY_ENV = 'NODE_CLUSTER_SCHED_POLICY'

/**
 * How connections reach the workers: each worker accepts from the shared socket itself
 * (`SCHED_NONE`), unless the operator chose with NODE_CLUSTER_SCHED_POLICY. node:cluster's
 * default round-robin has the primary accept every connection and hand it to a worker over IPC,
 * one at a time per worker, waiting for each worker's answer: in a connection flood, a new
 * connection (a health check) waited seconds in the primary behind the flood (p99 3.1–4.3 s,
 * against 0.14–0.8 s with SCHED_NONE: bench/README.md). The old reason for round-robin, a greedy
 * accept loop letting one process take most connections, is gone: libuv 1.45 (Node 20) accepts
 * one connection per turn of a worker's event loop, so the less busy worker takes more (20,000
 * connections split within 1% of even in the flood).
 */
export function schedulingPolicy(env: NodeJS.ProcessEnv = process.env): number {
  return env[SCHED_POLICY_ENV] === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE
}

/**
 * The primary of `--workers N`: forks N copies of this command, which all listen on the same
 * port (each accepts connections itself: `schedulingPolicy`) and join through the cluster engine.
 * A worker that dies is started again; one that dies before it ever listened (a bad config, an
 * engine it cannot reach) stops them all. SIGTERM/SIGINT asks every worker to drain, and the
 * primary exits once they all stopped (a second signal stops them at once).
 */
export function runPrimary(n: number): void {
  let stopping = false
  const workers = new Map<number, Worker>()

  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_ENV]: String(index) })
    let listening = false
    workers.set(index, worker)
    worker.on('message', (m) => {
      if (m === READY_MESSAGE) listening = true
    })
    worker.on('exit', (code, signal) => {
      workers.delete(index)
      if (stopping) {
        if (workers.size === 0) {
          say('all workers stopped')
          process.exit(0)
        }
        return
      }
      if (!listening) {
        say(`worker ${index} exited before it listened (${signal ?? `code ${code}`}): stopping`)
        stopping = true
        for (const other of workers.values()) other.process.kill('SIGKILL')
        process.exit(1)
      }
      say(`worker ${index} exited (${signal ?? `code ${code}`}); starting it again`)
      setTimeout(() => {
        if (!stopping) fork(index)
      }, RESTART_DELAY_MS)
    })
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      say(`${signal} again: stopping the workers at once`)
      for (const worker of workers.values()) worker.process.kill('SIGKILL')
      process.exit(1)
    }
    stopping = true
    say(`${signal} received: draining ${workers.size} workers (send it again to stop at once)`)
    if (workers.size === 0) process.exit(0)
    for (const worker of workers.values()) {
      if (worker.isConnected()) worker.send(SHUTDOWN_MESSAGE)
      else worker.process.kill('SIGTERM')
    }
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)

  cluster.schedulingPolicy = schedulingPolicy() // before the first fork, which fixes it
  say(`starting ${n} workers`)
  for (let i = 0; i < n; i++) fork(i)
}
