// Broadcast capacity (bench/run.mjs --only capacity), the metric of Hashrocket's WebSocket
// shootout: the largest number of subscribers in one room for which the 95th percentile of a
// broadcast's round trip stays under `--cap-limit-ms` (500), with `--cap-concurrent` (4)
// broadcasts in flight.
//
// Subscribers join one room `--cap-step` at a time (spread over `--workers` lean load generators,
// each from its own loopback source address). At every step the publisher sends
// `--cap-samples` broadcasts, `--cap-concurrent` in flight; a broadcast's round trip is from its
// sending until the last subscriber in every load generator has it (the processes share the
// machine's clock). The step count grows until the p95 passes the limit or `--cap-max`
// subscribers (bounded by the open-files limit: one descriptor per subscriber in the server).
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startChild } from '../lib/ipc.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const bench = dirname(here)
const ROOM = 'cap/room'

export const capacityDefaults = {
  'cap-step': 1000,
  'cap-max': 18_000,
  'cap-samples': 100,
  'cap-concurrent': 4,
  'cap-limit-ms': 500,
}

const SERVERS = {
  ws: { file: 'servers/raw-ws.mjs', client: 'raw' },
  socketio: { file: 'servers/socketio.mjs', client: 'socketio' },
  switchboard: { file: 'servers/switchboard.mjs', client: 'switchboard' },
}

const percentile = (xs, p) => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length ? a[Math.min(a.length - 1, Math.ceil((p / 100) * a.length) - 1)] : null
}

async function withCapacity(opts, key, fn) {
  const def = SERVERS[key]
  const server = await startChild(join(bench, def.file), {
    execArgv: ['--expose-gc', ...opts['node-flags'].split(' ').filter(Boolean)],
    name: `${key} server`,
    nice: opts.nice,
    rt: opts.rt,
  })
  const workers = []
  try {
    for (let i = 0; i < Math.max(1, opts.workers); i++) {
      workers.push(
        await startChild(join(bench, 'loadgen', 'worker.mjs'), { name: `loadgen ${i}`, nice: opts.nice, rt: opts.rt }),
      )
    }
    await Promise.all(workers.map((w) => w.call('init', { kind: def.client, port: server.info.port })))
    return await fn({ server, workers })
  } finally {
    await Promise.allSettled(workers.map((w) => w.call('destroyAll', {}, 60_000)))
    await Promise.allSettled(workers.map((w) => w.stop()))
    await server.stop(10_000)
  }
}

/** `samples` broadcasts, `concurrent` in flight; the round trip of each (ms), null when one was lost. */
async function broadcasts(workers, { samples, concurrent, startSeq, payload }) {
  let next = 0
  const rtts = []
  let lost = 0
  const one = async () => {
    while (next < samples) {
      const seq = startSeq + next++
      const { ts } = await workers[0].call('capacityPublish', { seq, room: ROOM, payloadBytes: payload })
      const done = await Promise.all(
        workers.map((w) => w.call('capacityAwait', { seq, room: ROOM, timeoutMs: 20_000 }, 30_000)),
      )
      if (done.some((d) => d.timedOut)) lost++
      else rtts.push(Math.max(...done.map((d) => d.at ?? ts)) - ts)
    }
  }
  await Promise.all(Array.from({ length: concurrent }, one))
  return { rtts, lost }
}

export const capacityScenarios = {
  capacity: {
    servers: ['ws', 'socketio', 'switchboard'],
    title: (o) =>
      `Broadcast capacity (Hashrocket shootout metric): subscribers in one room, +${o['cap-step']} per step, ` +
      `${o['cap-samples']} broadcasts per step with ${o['cap-concurrent']} in flight, until p95 round trip > ${o['cap-limit-ms']} ms`,
    run: (opts, key) =>
      withCapacity(opts, key, async ({ workers }) => {
        await workers[0].call('publisher')
        const steps = []
        let subscribers = 0
        let seq = 0
        let capacity = 0
        let stoppedBy = `cap-max ${opts['cap-max']}`
        while (subscribers + opts['cap-step'] <= opts['cap-max']) {
          // The new subscribers, spread over the workers, each worker from its own source addresses.
          const results = await Promise.all(
            workers.map((w, j) => {
              const count =
                Math.floor(opts['cap-step'] / workers.length) + (j < opts['cap-step'] % workers.length ? 1 : 0)
              const base = Math.floor(subscribers / workers.length / 5000)
              return w.call(
                'connect',
                {
                  count,
                  rooms: Array(count).fill(ROOM),
                  concurrency: 50,
                  sources: Array.from({ length: 8 }, (_, k) => `127.${30 + j}.0.${1 + base + k}`),
                  perSource: 5000,
                },
                180_000,
              )
            }),
          )
          const failed = results.reduce((a, r) => a + r.failed, 0)
          subscribers += results.reduce((a, r) => a + r.ok, 0)
          if (failed > 0) {
            stoppedBy = `${failed} connections failed at ${subscribers}: ${results.find((r) => r.firstError)?.firstError}`
            break
          }
          // Warm-up broadcasts (not measured), then the sample.
          await broadcasts(workers, {
            samples: 8,
            concurrent: opts['cap-concurrent'],
            startSeq: seq,
            payload: opts.payload,
          })
          seq += 8
          const { rtts, lost } = await broadcasts(workers, {
            samples: opts['cap-samples'],
            concurrent: opts['cap-concurrent'],
            startSeq: seq,
            payload: opts.payload,
          })
          seq += opts['cap-samples']
          const step = {
            subscribers,
            p50Ms: percentile(rtts, 50),
            p95Ms: percentile(rtts, 95),
            maxMs: rtts.length ? Math.max(...rtts) : null,
            lost,
          }
          steps.push(step)
          console.log(
            `      ${key} ${subscribers} subscribers: p50 ${step.p50Ms?.toFixed(1)} ms, p95 ${step.p95Ms?.toFixed(1)} ms` +
              (lost ? `, ${lost} lost` : ''),
          )
          if (lost > 0 || step.p95Ms === null || step.p95Ms > opts['cap-limit-ms']) {
            stoppedBy = lost > 0 ? `${lost} broadcasts lost at ${subscribers}` : `p95 over the limit at ${subscribers}`
            break
          }
          capacity = subscribers
        }
        const last = steps.find((s) => s.subscribers === capacity)
        return {
          capacity,
          stoppedBy,
          p95AtCapacityMs: last?.p95Ms ?? null,
          p50AtCapacityMs: last?.p50Ms ?? null,
          steps,
        }
      }),
    rows: [
      ['subscribers with p95 under the limit', 'capacity', 0],
      ['p95 round trip there (ms)', 'p95AtCapacityMs', 1],
      ['p50 round trip there (ms)', 'p50AtCapacityMs', 1],
      ['stopped by', 'stoppedBy', 0],
    ],
    targets: [],
  },
}
