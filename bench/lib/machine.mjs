// The whole machine's CPU, read from /proc/stat: what the load generators and servers did not
// use is noise from other processes (the machine is shared).
import { readFileSync } from 'node:fs'
import os from 'node:os'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Whole-machine CPU time (all cores, ms) from /proc/stat: busy and total. Null off Linux. */
export function machineCpu() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    const total = f.reduce((a, b) => a + b, 0)
    const idle = f[3] + (f[4] || 0)
    const hz = 100 // USER_HZ
    // softirq: loopback TCP receive processing, mostly our own traffic, not charged to any process
    return { busyMs: ((total - idle) / hz) * 1000, softirqMs: ((f[6] || 0) / hz) * 1000, totalMs: (total / hz) * 1000 }
  } catch {
    return null
  }
}

/** Wait (bounded) until the machine is mostly idle; returns the last measured busy % (of one core). */
export async function waitForQuiet(maxS) {
  let busy = null
  const deadline = Date.now() + maxS * 1000
  do {
    const a = machineCpu()
    await sleep(1000)
    const b = machineCpu()
    if (!a || !b) return null
    busy = ((b.busyMs - a.busyMs) / (b.totalMs - a.totalMs)) * (os.availableParallelism?.() ?? os.cpus().length) * 100
    if (busy < 40) break
  } while (Date.now() < deadline)
  return busy
}
