import { CloseCode } from '@switchboard/protocol'
import { SwitchboardError } from '../../errors.js'
import { readJsonBody } from '../../http/body.js'
import type { RouteHandler } from '../../http/router.js'
import { fallbackRoute, SESSION_HEADER, sessionOf } from './fallback-http.js'
import type { FallbackTransport } from './fallback-transport.js'
import type { SessionDirectory } from './session-directory.js'
import type { SessionRelay } from './session-relay.js'

export const SEND_PATH = '/send'
/** At most this many frames per body, like a batch frame. */
const MAX_FRAMES = 1000

export interface SendDeps {
  cors: readonly string[]
  directory: SessionDirectory
  /** limits.maxMessageBytes: one frame over it is answered TOO_LARGE by the session. */
  maxMessageBytes: number
  /** Cluster: relays a body for a session another node holds. */
  relay?: SessionRelay
}

interface SendBody {
  seq: number
  frames: string[]
  close?: true
}

/**
 * `POST /send` `{"seq":n,"frames":["<frame>",…],"close"?:true}` with the session header: the
 * client → server half of both fallback transports. `seq` numbers the first frame; frames the
 * session already has (a body retried after its answer was lost) are skipped, so every frame is
 * handled once and in order. `close` ends the session (the client closed or gave the session
 * up), whatever `seq` says. 204 when taken.
 */
export function sendEndpoint(deps: SendDeps): RouteHandler {
  // Like the WebSocket's hard frame limit (twice maxMessageBytes), and never under the 256 KiB
  // a client puts in one body when it batches frames.
  const maxBody = Math.min(Math.max(deps.maxMessageBytes * 2, 512 * 1024) + 64 * 1024, 256 * 1024 * 1024)
  return fallbackRoute(deps.cors, 'POST', async (req, res) => {
    const located = sessionOf(req, deps.directory, deps.relay)
    let raw: unknown
    try {
      raw = await readJsonBody(req, maxBody)
    } catch (err) {
      if ((err as SwitchboardError).code === 'TOO_LARGE' && 'local' in located) {
        located.local.close(CloseCode.MESSAGE_TOO_BIG, 'a /send body exceeded the size limit')
      }
      throw err
    }
    if ('local' in located) {
      applySend(located.local, raw)
      res.writeHead(204, { 'cache-control': 'no-store' }).end()
    } else {
      const session = req.headers[SESSION_HEADER] as string
      await located.relay.forward(located.node, { op: 'send', session, body: raw }, res)
    }
  })
}

/** Hands a `/send` body to the session it addresses; throws what the answer must say. */
export function applySend(transport: FallbackTransport, raw: unknown): void {
  const body = sendBody(raw)
  const receipt = transport.receive(body.seq, body.frames)
  if (receipt === 'over') throw new SwitchboardError('NOT_FOUND', 'the session is over')
  // A goodbye ends the session even after a gap: a client that lost its way says it, too.
  if (body.close) transport.closeByPeer()
  else if (receipt === 'gap') throw new SwitchboardError('INVALID_MESSAGE', `frames before seq ${body.seq} are missing`)
}

function sendBody(raw: unknown): SendBody {
  const b = raw as Partial<Record<keyof SendBody, unknown>> | null
  const valid =
    typeof b === 'object' &&
    b !== null &&
    Number.isSafeInteger(b.seq) &&
    (b.seq as number) >= 1 &&
    Array.isArray(b.frames) &&
    b.frames.length <= MAX_FRAMES &&
    b.frames.every((f) => typeof f === 'string') &&
    (b.close === undefined || b.close === true) &&
    Object.keys(b).every((k) => k === 'seq' || k === 'frames' || k === 'close')
  if (!valid) {
    throw new SwitchboardError(
      'INVALID_MESSAGE',
      `the body must be {"seq":<integer ≥ 1>,"frames":[<string>, … at most ${MAX_FRAMES}],"close"?:true}`,
    )
  }
  return b as SendBody
}
