import { EventEmitter } from 'node:events'
import type { ServerResponse } from 'node:http'
import type { Clock } from '../../clock.js'
import type { NodeBus, NodeMessage } from '../../engine/node-bus.js'
import type { TopicReceiver } from '../../engine/node-topics.js'
import { SwitchboardError, toSwitchboardError } from '../../errors.js'
import { errorBody } from '../../http/router.js'
import { errorCodes } from '@switchboard/protocol'
import type { ResponseHeaders, SessionResponse } from './fallback-transport.js'

/** The node-bus topic of the relay. */
export const RELAY_TOPIC = 'relay'

/** A fallback-transport request, as the node that received it hands it to the session's holder. */
export type RelayedRequest =
  | { op: 'send'; session: string; body: unknown }
  | { op: 'poll'; session: string; ack: number }
  | { op: 'stream'; ticket: string }

/** How the holder serves a relayed request: exactly as for a local one, into `res`. */
export type RelayedHandler = (request: RelayedRequest, res: SessionResponse) => void

/** Holder → relaying node: the response, piece by piece. Relaying node → holder: `req`, `cancel`. */
type RelayMessage =
  | { k: 'req'; id: number; req: RelayedRequest }
  | { k: 'cancel'; id: number }
  | { k: 'head'; id: number; status: number; headers: ResponseHeaders }
  | { k: 'data'; id: number; chunk: string }
  | { k: 'end'; id: number; chunk?: string }
  | { k: 'destroy'; id: number }

interface Forwarded {
  node: string
  res: ServerResponse
  cancelTimeout: () => void
}

/**
 * The cluster relay of the fallback transports (SPEC §5: no sticky sessions). A `/send`, `/poll`
 * or event stream that reaches a node other than the session's holder (named by its id or
 * ticket) is sent to the holder over the node bus with a correlation id; the holder serves it as
 * if it had come in locally, into a response that sends back its status, headers and body (an
 * event stream: each write, while it is open), and the relaying node writes them to its HTTP
 * response. A relaying node whose response closes tells the holder (a held poll is dropped, a
 * stream ends the session as a broken stream does). A holder that is gone is answered 404: the
 * client takes the session as over, reconnects and recovers.
 */
export class SessionRelay implements TopicReceiver {
  private nextId = 1
  private readonly forwarded = new Map<number, Forwarded>()
  /** Responses this node (the holder) serves for others, by `<node> <id>`. */
  private readonly serving = new Map<string, RelayedResponse>()

  constructor(
    private readonly bus: NodeBus,
    private readonly clock: Clock,
    private readonly handle: RelayedHandler,
    /** How long the holder may take to start answering (a poll: its hold, plus this). */
    private readonly timeoutMs: number,
  ) {}

  get nodeId(): string {
    return this.bus.nodeId
  }

  /** Relays `request` to `node` and answers `res` with the holder's answer. */
  async forward(node: string, request: RelayedRequest, res: ServerResponse, holdMs = 0): Promise<void> {
    const id = this.nextId++
    const cancelTimeout = this.clock.schedule(this.timeoutMs + holdMs, () => {
      if (!this.forwarded.delete(id)) return
      void this.bus.send(node, RELAY_TOPIC, { k: 'cancel', id })
      if (!res.headersSent)
        fail(res, new SwitchboardError('UNAVAILABLE', 'the node holding the session did not answer'))
      else res.destroy()
    })
    this.forwarded.set(id, { node, res, cancelTimeout })
    res.once('close', () => {
      const entry = this.forwarded.get(id)
      if (entry?.res !== res) return
      this.forwarded.delete(id)
      cancelTimeout()
      void this.bus.send(node, RELAY_TOPIC, { k: 'cancel', id })
    })
    const sent = await this.bus.send(node, RELAY_TOPIC, { k: 'req', id, req: request } satisfies RelayMessage)
    if (sent) return
    this.forwarded.delete(id)
    cancelTimeout()
    throw new SwitchboardError('NOT_FOUND', 'the session is over: the node that held it is gone')
  }

  onNodeMessage(message: NodeMessage): void {
    const m = message.payload as RelayMessage
    if (typeof m !== 'object' || m === null || !Number.isSafeInteger(m.id)) return
    if (m.k === 'req') return this.serve(message.from, m.id, m.req)
    if (m.k === 'cancel') return this.serving.get(`${message.from} ${m.id}`)?.cancelled()
    const entry = this.forwarded.get(m.id)
    if (!entry || entry.node !== message.from) return
    const res = entry.res
    if (m.k === 'head') {
      entry.cancelTimeout()
      if (!res.headersSent) res.writeHead(m.status, m.headers)
    } else if (m.k === 'data') {
      if (!res.destroyed) res.write(m.chunk)
    } else {
      this.forwarded.delete(m.id)
      entry.cancelTimeout()
      if (m.k === 'end') res.end(m.chunk)
      else res.destroy()
    }
  }

  private serve(from: string, id: number, request: RelayedRequest): void {
    const key = `${from} ${id}`
    const res = new RelayedResponse((m) => void this.bus.send(from, RELAY_TOPIC, { ...m, id }))
    this.serving.set(key, res)
    res.once('close', () => this.serving.delete(key))
    try {
      if (!validRequest(request)) throw new SwitchboardError('INVALID_MESSAGE', 'malformed relayed request')
      this.handle(request, res)
    } catch (err) {
      if (res.headersSent) res.destroy()
      else fail(res, toSwitchboardError(err))
    }
  }
}

type Outgoing =
  | { k: 'head'; status: number; headers: ResponseHeaders }
  | { k: 'data'; chunk: string }
  | { k: 'end'; chunk?: string }
  | { k: 'destroy' }

/** The holder's stand-in for the relaying node's HTTP response: every call becomes a message. */
class RelayedResponse extends EventEmitter implements SessionResponse {
  destroyed = false
  headersSent = false
  readonly writableLength = 0

  constructor(private readonly out: (message: Outgoing) => void) {
    super()
  }

  writeHead(status: number, headers: ResponseHeaders): this {
    if (this.destroyed || this.headersSent) return this
    this.headersSent = true
    this.out({ k: 'head', status, headers })
    return this
  }

  write(chunk: string | Buffer): boolean {
    if (!this.destroyed) this.out({ k: 'data', chunk: chunk.toString() })
    return true
  }

  end(chunk?: string): this {
    if (this.destroyed) return this
    this.out(chunk === undefined ? { k: 'end' } : { k: 'end', chunk })
    this.finish()
    return this
  }

  destroy(): this {
    if (this.destroyed) return this
    this.out({ k: 'destroy' })
    this.finish()
    return this
  }

  /** The relaying node's HTTP response closed. */
  cancelled(): void {
    if (!this.destroyed) this.finish()
  }

  private finish(): void {
    this.destroyed = true
    this.emit('close')
  }
}

function fail(res: SessionResponse, e: SwitchboardError): void {
  const text = JSON.stringify(errorBody(e.code, e.message, e.data))
  res.writeHead(errorCodes[e.code].http, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  })
  res.end(text)
}

function validRequest(r: RelayedRequest): boolean {
  if (typeof r !== 'object' || r === null) return false
  if (r.op === 'send') return typeof r.session === 'string'
  if (r.op === 'poll') return typeof r.session === 'string' && Number.isSafeInteger(r.ack)
  return r.op === 'stream' && typeof r.ticket === 'string'
}
