import {
  endpoint,
  goodbye,
  openSession,
  retrying,
  SESSION_HEADER,
  TransportEnd,
  unreachable,
  Uplink,
} from './http-session.js'
import type { ClientTransportEvents, FetchFunction, TransportFactory } from './transport.js'

interface PollAnswer {
  seq: number
  frames: object[]
  close?: { code: number; reason: string }
}

/**
 * Long-polling: `POST /connect`, then `GET /poll` again and again (each held by the server
 * until it has frames, at most 25 s) and `POST /send` up. Every poll acknowledges the frames
 * received so far (`X-Switchboard-Ack`): a poll answer lost on the way is sent again by the
 * next poll, and frames seen twice are dropped by their sequence number.
 */
export function longpollTransport(fetchImpl: FetchFunction): TransportFactory {
  return (base: string, events: ClientTransportEvents) => {
    const controller = new AbortController()
    const { signal } = controller
    let uplink: Uplink | undefined
    let session: string | undefined
    let closed = false
    /** `ended`: the server ended the session (its close event); otherwise the client says goodbye. */
    const finish = (end: TransportEnd, ended = false) => {
      if (closed) return
      closed = true
      controller.abort()
      if (session && !ended) goodbye(fetchImpl, base, session)
      events.onClose(end.code, end.reason, end.refusal)
    }
    const fail = (err: unknown) => finish(err instanceof TransportEnd ? err : unreachable())

    const poll = async (id: string) => {
      const url = endpoint(base, '/poll')
      let received = 0
      while (!closed) {
        const headers = { [SESSION_HEADER]: id, 'x-switchboard-ack': String(received) }
        const answer = await retrying(
          () => fetchImpl(url, { headers, signal }),
          (r) => r.json() as Promise<PollAnswer>,
          signal,
        )
        answer.frames.forEach((frame, i) => {
          if (closed || answer.seq + i <= received) return
          received = answer.seq + i
          events.onFrame(frame)
        })
        if (answer.close) finish(new TransportEnd(answer.close.code, answer.close.reason), true)
      }
    }

    openSession(fetchImpl, base, 'longpoll', signal).then((opened) => {
      session = opened.session
      if (closed) return goodbye(fetchImpl, base, session)
      uplink = new Uplink(fetchImpl, endpoint(base, '/send'), session, signal, finish)
      events.onOpen()
      poll(session).catch(fail)
    }, fail)

    return {
      send: (frame) => uplink?.send(frame),
      close: (code = 1000, reason = '') => finish(new TransportEnd(code, reason)),
    }
  }
}
