import type { IncomingMessage, ServerResponse } from 'node:http'
import { PROTOCOL_VERSION } from '@switchboard/protocol'
import { SwitchboardError } from '../../errors.js'
import { applyCors } from '../../http/cors.js'
import { bearerToken } from '../../http/request-auth.js'
import { sendError, type RouteHandler } from '../../http/router.js'
import { isAdmissionRefusal, type ConnectionGate } from '../../limits/connection-gate.js'
import type { RequestsPerIp } from '../../limits/requests-per-ip.js'
import type { Transport, TransportSink } from '../transport.js'
import { decodeEventId } from './event-id.js'
import { SseTransport } from './sse-transport.js'

export const SSE_PATH = '/sse'

export interface SseEndpointOptions {
  accept(transport: Transport): TransportSink
  /** server.cors */
  cors: readonly string[]
  /** limits.maxSubscriptionsPerConnection: the most `channel` parameters. */
  maxChannels: number
  accepting(): boolean
  /** A stream is a connection: it must pass the per-address connection limit. */
  admit: ConnectionGate
  rate: RequestsPerIp
}

/**
 * `GET /sse?channel=a&channel=b[&token=…]`: publications of those channels as Server-Sent
 * Events, for `new EventSource(url)` or `curl -N`. The stream is a session like any other (auth,
 * rules, limits, recovery): this endpoint sends its `hello` (the token from `?token=` or an
 * `Authorization: Bearer` header) and one `sub` per channel, with the positions of
 * `Last-Event-ID` (or `?lastEventId=`) as `since`, so a reconnecting EventSource gets what it
 * missed, exactly once and in order.
 */
export function sseEndpoint(options: SseEndpointOptions): RouteHandler {
  return (req, res, url) => {
    if (applyCors(req, res, options.cors, 'GET, OPTIONS')) return
    try {
      open(req, res, url, options)
    } catch (err) {
      const e = err instanceof SwitchboardError ? err : new SwitchboardError('INTERNAL', 'internal server error')
      const status = res.hasHeader('allow') ? 405 : isAdmissionRefusal(e) ? 503 : undefined
      sendError(res, status, e.code, e.message, e.data)
    }
  }
}

function open(req: IncomingMessage, res: ServerResponse, url: URL, options: SseEndpointOptions): void {
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET, OPTIONS')
    throw new SwitchboardError('INVALID_MESSAGE', `method ${req.method} not allowed`)
  }
  if (!options.accepting()) throw new SwitchboardError('UNAVAILABLE', 'the server is starting or shutting down')
  const admission = options.admit.check(req)
  const address = admission.address
  if (!options.rate.take(address)) throw new SwitchboardError('RATE_LIMITED', 'too many requests from this address')

  const channels = [...new Set(url.searchParams.getAll('channel'))]
  if (channels.length === 0) throw new SwitchboardError('INVALID_MESSAGE', 'name at least one ?channel=')
  if (channels.length > options.maxChannels) {
    throw new SwitchboardError('TOO_MANY_SUBSCRIPTIONS', `at most ${options.maxChannels} channels per stream`)
  }
  const lastId = req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? undefined
  const since = lastId === undefined || lastId === '' ? new Map() : decodeEventId(String(lastId))
  if (!since) throw new SwitchboardError('INVALID_MESSAGE', 'Last-Event-ID is not a position of this server')
  const token = url.searchParams.get('token') ?? bearerToken(req.headers.authorization)

  const release = options.admit.acquire(admission)
  const subscriptions = new Map(channels.map((channel, i) => [i + 1, channel]))
  const transport = new SseTransport(res, address, subscriptions)
  res.once('close', () => {
    release()
    transport.ended()
  })
  const sink = options.accept(transport)
  transport.sink = sink
  sink.onFrame(
    JSON.stringify(
      token === undefined
        ? { t: 'hello', id: 0, v: PROTOCOL_VERSION }
        : { t: 'hello', id: 0, v: PROTOCOL_VERSION, token },
    ),
  )
  for (const [id, ch] of subscriptions) {
    const pos = since.get(ch)
    sink.onFrame(
      JSON.stringify(pos ? { t: 'sub', id, ch, since: { offset: pos[0], epoch: pos[1] } } : { t: 'sub', id, ch }),
    )
  }
}
