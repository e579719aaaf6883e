/**
 * The Transport conformance suite. Every transport runs it through
 * `describeTransportContract(name, factory, capabilities)`: the factory opens one real
 * connection (its endpoint on loopback where it has one) and gives the suite the server-side
 * `Transport` and a peer playing the client. What a transport cannot do by nature is declared
 * in `capabilities`; the tests that need it are then listed as skipped with the reason, and a
 * transport that claims a capability must give its peer the methods it needs.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Changes } from '../testing/changes.js'
import { EncodedFrame, type Transport, type TransportSink } from './transport.js'

export interface TransportCapabilities {
  /** The peer sends frames to the server (false for SSE: server → client only). */
  inbound: boolean
  /**
   * Frames the peer does not read pile up in the transport and show in `bufferedBytes()`
   * (false for the in-memory transport, which hands every frame over without a buffer).
   */
  backpressure: boolean
}

/** What the peer (the client end) reports to the suite. */
export interface PeerEvents {
  /** The peer received a publication (a protocol `msg` frame, alone or in a batch) with this `d`. */
  message(data: unknown): void
  /** The connection ended for the peer; `code` is the close code it learnt, if the wire carries one. */
  closed(code: number | undefined): void
}

export interface TransportPeer {
  /** Sends one frame to the server. Required with `capabilities.inbound`. */
  send?(text: string): void
  /** Closes the connection from the client's side. */
  close(): void
  /** Stops / resumes reading (the socket's flow control). Required with `capabilities.backpressure`. */
  pause?(): void
  resume?(): void
}

export interface TransportSubject {
  transport: Transport
  peer: TransportPeer
  /** Ends the connection and whatever was opened for it (servers, sockets); called once the test is done. */
  dispose(): Promise<void>
}

export interface TransportFactory {
  /**
   * Opens one connection and resolves once both ends are up. The server-side transport is
   * handed to `accept` the way the real endpoint does it; the peer reports to `events`. The
   * suite sends protocol `msg` frames on `channel` (a transport that carries only
   * subscriptions, like SSE, subscribes the peer to it).
   */
  connect(
    accept: (transport: Transport) => TransportSink,
    events: PeerEvents,
    channel: string,
  ): Promise<TransportSubject>
}

const CHANNEL = 'contract/frames'
const msg = (d: unknown) => ({ t: 'msg', ch: CHANNEL, o: 1, e: 'E', d })
const frame = (d: unknown) => new EncodedFrame(JSON.stringify(msg(d)))
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** Polls a condition nothing announces (a buffer draining); bounded. */
async function poll(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export function describeTransportContract(
  name: string,
  factory: TransportFactory,
  capabilities: TransportCapabilities,
): void {
  const needs = (capability: keyof TransportCapabilities, reason: string) =>
    capabilities[capability] ? it : (title: string, fn: () => Promise<void>) => it.skip(`${title} [n/a: ${reason}]`, fn)
  const inbound = needs('inbound', 'the peer cannot send')
  const backpressure = needs('backpressure', 'the transport keeps no buffer')

  describe(`Transport contract: ${name}`, () => {
    const open: TransportSubject[] = []
    afterEach(async () => {
      for (const s of open.splice(0)) await s.dispose()
    })

    /** One connection, with everything both ends saw. */
    async function connect() {
      const changes = new Changes()
      const seen = {
        frames: [] as string[],
        closes: [] as { code: number; reason: string }[],
        received: [] as unknown[],
        peerClosed: undefined as { code: number | undefined } | undefined,
      }
      const sink: TransportSink = {
        onFrame(text) {
          seen.frames.push(text)
          changes.notify()
        },
        onHeard() {},
        onClose(code, reason) {
          seen.closes.push({ code, reason })
          changes.notify()
        },
      }
      const events: PeerEvents = {
        message(data) {
          seen.received.push(data)
          changes.notify()
        },
        closed(code) {
          seen.peerClosed ??= { code }
          changes.notify()
        },
      }
      const subject = await factory.connect(() => sink, events, CHANNEL)
      open.push(subject)
      const { transport, peer } = subject
      return {
        transport,
        peer,
        seen,
        until: (check: () => boolean, what: string) => changes.until(check, what),
        /** Everything the server side opened is gone: no callback can come any more. */
        ended: async () => {
          open.splice(open.indexOf(subject), 1)
          await subject.dispose()
        },
      }
    }

    it('frames reach the peer in the order they were sent: single, batched and large ones', async () => {
      const c = await connect()
      for (const i of range(0, 50)) c.transport.send(frame(i))
      c.transport.send(new EncodedFrame(JSON.stringify(range(50, 60).map(msg))))
      const large = 'x'.repeat(1024 * 1024)
      c.transport.send(frame(large))
      for (const i of range(60, 100)) c.transport.send(frame(i))
      await c.until(() => c.seen.received.length >= 101, '101 publications at the peer')
      expect(c.seen.received).toEqual([...range(0, 60), large, ...range(60, 100)])
    })

    inbound('frames from the peer reach onFrame whole and in the order the peer sent them', async () => {
      const c = await connect()
      const sent = range(0, 200).map((i) => JSON.stringify({ t: 'pub', id: i, ch: 'x', d: 'é'.repeat(i) }))
      for (const text of sent) c.peer.send!(text)
      await c.until(() => c.seen.frames.length >= sent.length, `${sent.length} frames at the sink`)
      expect(c.seen.frames).toEqual(sent)
    })

    it('close reaches the peer with its code, after the frames sent before it; onClose once', async () => {
      const c = await connect()
      for (const i of range(0, 10)) c.transport.send(frame(i))
      c.transport.close(4000, 'going away')
      c.transport.close(4001, 'again') // no effect
      await c.until(() => c.seen.peerClosed !== undefined && c.seen.closes.length > 0, 'both ends to see the close')
      expect(c.seen.received).toEqual(range(0, 10))
      expect(c.seen.peerClosed?.code).toBe(4000)
      await c.ended()
      expect(c.seen.closes).toHaveLength(1)
    })

    it('after close, send is a no-op and never throws', async () => {
      const c = await connect()
      c.transport.send(frame('before'))
      c.transport.close(4000, 'bye')
      expect(() => c.transport.send(frame('after'))).not.toThrow()
      await c.until(() => c.seen.peerClosed !== undefined, 'the peer to see the close')
      expect(() => c.transport.send(frame('later'))).not.toThrow()
      await c.ended()
      expect(c.seen.received).toEqual(['before'])
    })

    it('a peer that goes away: onClose exactly once, then send and close are harmless', async () => {
      const c = await connect()
      c.peer.close()
      await c.until(() => c.seen.closes.length > 0, 'onClose')
      expect(() => c.transport.send(frame('to nobody'))).not.toThrow()
      c.transport.close(4000, 'late')
      await c.ended()
      expect(c.seen.closes).toHaveLength(1)
      expect(c.seen.received).toEqual([])
    })

    it('both ends closing at once: onClose exactly once', async () => {
      const c = await connect()
      c.peer.close()
      c.transport.close(4000, 'bye')
      await c.until(() => c.seen.closes.length > 0 && c.seen.peerClosed !== undefined, 'both ends to see the close')
      await c.ended()
      expect(c.seen.closes).toHaveLength(1)
    })

    it('bufferedBytes is 0 once the peer has everything', async () => {
      const c = await connect()
      for (const i of range(0, 20)) c.transport.send(frame(i))
      await c.until(() => c.seen.received.length >= 20, '20 publications at the peer')
      await poll(() => c.transport.bufferedBytes() === 0, 'bufferedBytes to return to 0')
    })

    backpressure(
      'a peer that stops reading: send neither blocks nor throws, bufferedBytes grows, then drains in order',
      async () => {
        const c = await connect()
        c.peer.pause!()
        const chunk = 'y'.repeat(64 * 1024)
        let sent = 0
        // Kernel buffers take the first few MiB; past them the bytes wait in the transport.
        while (c.transport.bufferedBytes() === 0 && sent < 1024) c.transport.send(frame(`${sent++}:${chunk}`))
        expect(c.transport.bufferedBytes()).toBeGreaterThan(0)
        c.peer.resume!()
        await c.until(() => c.seen.received.length >= sent, `${sent} publications at the peer`)
        expect(c.seen.received.map((d) => Number(String(d).split(':')[0]))).toEqual(range(0, sent))
        await poll(() => c.transport.bufferedBytes() === 0, 'bufferedBytes to return to 0')
      },
    )
  })
}
