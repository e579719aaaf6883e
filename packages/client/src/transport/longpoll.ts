import { ended, endpoint, fallbackTransport, retrying, SESSION_HEADER } from './http-session.js'
import type { FetchFunction, TransportFactory } from './transport.js'

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
  return fallbackTransport('longpoll', fetchImpl, ({ session }, { base, signal, open, frame, finish, fail }) => {
    const url = endpoint(base, '/poll')
    let received = 0
    open()
    void (async () => {
      while (!signal.aborted) {
        const headers = { [SESSION_HEADER]: session, 'x-switchboard-ack': String(received) }
        const answer = (await retrying(
          (attempt) => fetchImpl(url, { headers, signal: attempt }),
          signal,
          (r) => r.json() as Promise<PollAnswer>,
        )) as PollAnswer
        answer.frames.forEach((f, i) => {
          if (answer.seq + i <= received) return
          received = answer.seq + i
          frame(f)
        })
        if (answer.close) finish(ended(answer.close.code, answer.close.reason), true)
      }
    })().catch(fail)
  })
}
