// Request/response over Node's IPC channel (process.send), shared by the parent, the server
// children and the load-generator children. Every request has a timeout: nothing waits forever.
import { fork } from 'node:child_process'
import { writeFileSync } from 'node:fs'

/** Child side: answer `{ id, cmd, args }` requests with `{ id, ok, result | error }`. */
export function serveIpc(handlers) {
  process.on('message', async (msg) => {
    if (!msg || typeof msg.id !== 'number') return
    const fn = handlers[msg.cmd]
    try {
      if (!fn) throw new Error(`unknown command ${msg.cmd}`)
      const result = await fn(msg.args ?? {})
      process.send?.({ id: msg.id, ok: true, result })
    } catch (err) {
      process.send?.({ id: msg.id, ok: false, error: String(err?.stack ?? err) })
    }
  })
  // The parent went away (crash, ctrl-c, SIGKILL): never outlive it.
  process.on('disconnect', () => process.exit(0))
}

const children = new Set()

/** Kill every child still alive (SIGKILL; they hold nothing worth flushing). */
export function killAllChildren() {
  for (const child of children) {
    try {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    } catch {}
  }
  children.clear()
}

/**
 * Parent side: fork a child, wait for its `{ type: 'ready' }` message, return a handle with
 * `call(cmd, args, timeoutMs)` and `kill()`.
 */
export async function startChild(
  file,
  { args = [], execArgv = [], readyTimeoutMs = 20000, name = file, pinCpu, nice = 0, rt = 0, nofile = 0 } = {},
) {
  // With a priority asked for, the child gets its own session: on Linux with autogroup scheduling
  // (the default on desktops and many VMs) nice levels only count inside a session's group, so the
  // group's own nice (/proc/<pid>/autogroup) is what lets it compete with other sessions' work.
  // Ctrl-C does not reach a detached child, but the parent kills it, and it exits by itself
  // when the IPC channel to the parent closes.
  const options = {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    detached: nice !== 0 || rt !== 0,
  }
  // Wrappers exec node in place (keeping the IPC fd), so every thread node creates inherits
  // the priority and CPU affinity — renicing a running process only changes its main thread.
  const wrap = []
  // The open-files limit, raised the way a user would for a server with many connections
  // (`prlimit --nofile`, i.e. `ulimit -n` for this process; raising the hard limit needs root).
  if (nofile) wrap.push('prlimit', `--nofile=${nofile}:${nofile}`)
  // SCHED_FIFO (needs root): the child preempts every ordinary process, which is as close to a
  // quiet machine as a shared one gets. The kernel's RT throttling (sched_rt_runtime_us) still
  // leaves the rest of the machine 5% of each CPU, and our children sleep most of the time.
  // RLIMIT_RTTIME is the safety net: a real-time child that runs 120 s without blocking (a spin,
  // which would otherwise leave the rest of the machine 5% of each CPU) gets SIGXCPU/SIGKILL.
  // It must outlast a saturated window: a busy Node process polls without ever blocking, and the
  // 10 s this used to be killed servers and load generators in max-rate and rooms runs.
  if (rt) wrap.push('prlimit', '--rttime=120000000:130000000', 'chrt', '-f', String(rt))
  else if (nice) wrap.push('nice', '-n', String(nice))
  if (pinCpu !== undefined) wrap.push('taskset', '-c', String(pinCpu))
  const child =
    wrap.length > 0
      ? fork(file, args, { ...options, execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath, ...execArgv] })
      : fork(file, args, options)
  children.add(child)
  if (nice) {
    try {
      writeFileSync(`/proc/${child.pid}/autogroup`, String(nice))
    } catch {}
  }
  const pending = new Map()
  let nextId = 1
  let exited = null
  let onReady
  const ready = new Promise((resolve, reject) => {
    onReady = { resolve, reject }
  })
  child.on('message', (msg) => {
    if (msg && msg.type === 'ready') return onReady.resolve(msg)
    if (msg && msg.type === 'fatal') return onReady.reject(new Error(`${name}: ${msg.error}`))
    const p = msg && pending.get(msg.id)
    if (!p) return
    pending.delete(msg.id)
    clearTimeout(p.timer)
    if (msg.ok) p.resolve(msg.result)
    else p.reject(new Error(`${name}: ${msg.error}`))
  })
  child.on('exit', (code, signal) => {
    children.delete(child)
    exited = { code, signal }
    const err = new Error(`${name} exited (code ${code}, signal ${signal})`)
    onReady.reject(err)
    for (const p of pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    pending.clear()
  })
  const readyTimer = setTimeout(
    () => onReady.reject(new Error(`${name}: not ready after ${readyTimeoutMs} ms`)),
    readyTimeoutMs,
  )
  let info
  try {
    info = await ready
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  } finally {
    clearTimeout(readyTimer)
  }
  return {
    info,
    pid: child.pid,
    call(cmd, args = {}, timeoutMs = 30000) {
      if (exited) return Promise.reject(new Error(`${name} already exited`))
      const id = nextId++
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${name}: ${cmd} timed out after ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, { resolve, reject, timer })
        child.send({ id, cmd, args })
      })
    },
    /** Ask nicely, then SIGKILL after `graceMs`. Resolves once the process is gone. */
    async stop(graceMs = 3000) {
      if (exited) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      try {
        child.send({ id: 0, cmd: 'stop' })
      } catch {}
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await gone
      clearTimeout(t)
    },
  }
}
