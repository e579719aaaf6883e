// GET /metrics: Prometheus text with the server's own counters and the process's metrics.
import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) })
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() }
}

/** The value of one sample line, e.g. `switchboard_connections` or `x_total{type="pub"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('GET /metrics', () => {
  it('counts connections, messages by type, frames, publications, record changes and API requests', async () => {
    const { url } = await res.server()
    const before = await scrape(url)
    expect(before.status).toBe(200)
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sample(before.text, 'switchboard_connections')).toBe(0)
    expect(before.text).toContain('# HELP switchboard_messages_received_total')
    // The process's own metrics come along.
    // A counter of CPU time since the collector started: present, and never negative (over the
    // few milliseconds before the first scrape the kernel may still have charged it no user time).
    const cpuBefore = sample(before.text, 'switchboard_process_cpu_user_seconds_total')
    expect(cpuBefore).toBeGreaterThanOrEqual(0)
    expect(before.text).toContain('switchboard_nodejs_eventloop_lag_seconds')

    const sb = await res.connected(url)
    const sub = sb.subscribe('chat/a', () => {})
    await sub.ready
    await sb.publish('chat/a', { n: 1 })
    await sb.publish('chat/a', { n: 2 })
    const rec = sb.record('doc/1')
    await rec.ready
    await rec.set({ x: 1 })
    await fetch(`${url}/api/records/doc%2Fnone`)

    const after = await scrape(url)
    expect(sample(after.text, 'switchboard_connections')).toBe(1)
    expect(sample(after.text, 'switchboard_messages_received_total{type="pub"}')).toBe(2)
    expect(sample(after.text, 'switchboard_messages_received_total{type="sub"}')).toBe(1)
    expect(sample(after.text, 'switchboard_messages_received_total{type="rset"}')).toBe(1)
    expect(sample(after.text, 'switchboard_publications_total')).toBe(2)
    expect(sample(after.text, 'switchboard_record_changes_total')).toBe(1)
    expect(sample(after.text, 'switchboard_http_requests_total{route="records",status="4xx"}')).toBe(1)
    expect(sample(after.text, 'switchboard_frames_sent_total')).toBeGreaterThanOrEqual(5)

    // Totals stay totals across scrapes (they are set, not added, at each scrape).
    const again = await scrape(url)
    expect(sample(again.text, 'switchboard_messages_received_total{type="pub"}')).toBe(2)
    // The process counters only grow.
    const cpuAgain = sample(again.text, 'switchboard_process_cpu_user_seconds_total')
    expect(cpuAgain).toBeGreaterThanOrEqual(cpuBefore as number)
  })

  it('is off with server.metrics: false', async () => {
    const { url } = await res.server({ server: { metrics: false } })
    expect((await scrape(url)).status).toBe(404)
  })
})
