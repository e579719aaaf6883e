import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { ServerCounters } from './counters.js'

export interface MetricSources {
  counters: ServerCounters
  connections(): number
}

// Process metrics (CPU, memory, event-loop lag, GC, handles) are per process, not per server:
// collected once, into a registry of their own that every server's scrape merges in.
let processRegistry: Registry | undefined
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry, prefix: 'switchboard_' })
  }
  return processRegistry
}

/** `GET /metrics`: Prometheus text exposition of one server's counters plus the process's. */
export function prometheusMetrics(sources: MetricSources): { contentType: string; render(): Promise<string> } {
  const registry = new Registry()
  const { counters } = sources
  // Our counters only go up; the registry's copies are set to their totals at each scrape.
  const setTo = (metric: Counter<string>, value: number) => {
    metric.reset()
    metric.inc(value)
  }
  const setAll = (metric: Counter<string>, totals: [Record<string, string>, number][]) => {
    metric.reset()
    for (const [labels, n] of totals) metric.inc(labels, n)
  }
  new Gauge({
    name: 'switchboard_connections',
    help: 'Open client connections (sessions) on this server.',
    registers: [registry],
    collect() {
      this.set(sources.connections())
    },
  })
  new Counter({
    name: 'switchboard_messages_received_total',
    help: 'Valid client messages received, by message type (pub, sub, rset, rupd, rpc, pjoin, …).',
    labelNames: ['type'],
    registers: [registry],
    collect() {
      setAll(
        this,
        Object.entries(counters.received).map(([type, n]) => [{ type }, n]),
      )
    },
  })
  new Counter({
    name: 'switchboard_frames_sent_total',
    help: 'Frames written to clients (messages queued in one event-loop turn leave as one frame).',
    registers: [registry],
    collect() {
      setTo(this, counters.framesSent)
    },
  })
  new Counter({
    name: 'switchboard_publications_total',
    help: 'Channel publications that reached this server from the engine (any node).',
    registers: [registry],
    collect() {
      setTo(this, counters.publications)
    },
  })
  new Counter({
    name: 'switchboard_record_changes_total',
    help: 'Committed record changes that reached this server from the engine (any node).',
    registers: [registry],
    collect() {
      setTo(this, counters.recordChanges)
    },
  })
  new Counter({
    name: 'switchboard_hook_events_total',
    help: 'Hook events by outcome: delivered (2xx), dropped (queue full or server stopping), failed (given up after retries, or refused with 4xx).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const { delivered, dropped, failed } = counters.hooks
      setAll(this, [
        [{ outcome: 'delivered' }, delivered],
        [{ outcome: 'dropped' }, dropped],
        [{ outcome: 'failed' }, failed],
      ])
    },
  })
  new Counter({
    name: 'switchboard_hook_retries_total',
    help: 'Hook requests sent again after a failure (network error, timeout, 408, 429 or 5xx).',
    registers: [registry],
    collect() {
      setTo(this, counters.hooks.retries)
    },
  })
  new Counter({
    name: 'switchboard_occupancy_changes_total',
    help: 'Channels and records that became occupied or vacant cluster-wide through this server.',
    labelNames: ['change'],
    registers: [registry],
    collect() {
      setAll(this, [
        [{ change: 'occupied' }, counters.occupancy.occupied],
        [{ change: 'vacated' }, counters.occupancy.vacated],
      ])
    },
  })
  new Counter({
    name: 'switchboard_http_requests_total',
    help: 'HTTP API requests, by route and status code class (2xx, 4xx, 5xx).',
    labelNames: ['route', 'status'],
    registers: [registry],
    collect() {
      setAll(
        this,
        Object.entries(counters.http).map(([key, n]) => {
          const [route = '', status = ''] = key.split(' ')
          return [{ route, status }, n]
        }),
      )
    },
  })
  return {
    contentType: registry.contentType,
    render: async () => (await Registry.merge([registry, processMetrics()]).metrics()) as string,
  }
}
