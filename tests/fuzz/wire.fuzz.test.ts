import fc from 'fast-check'
import { pino } from 'pino'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeCodes, isErrorCode } from '@switchboard/protocol'
import { createMemoryTransport, createServer, type MemoryPeer, type SwitchboardServer } from '@switchboard/server'
import { fuzzRuns } from './fuzz-settings.js'

/** Every client message type, and every field name any of them has. */
const TYPES = [
  'hello',
  'ping',
  'pong',
  'refresh',
  'sub',
  'unsub',
  'pub',
  'hist',
  'rsub',
  'runsub',
  'rget',
  'rset',
  'rupd',
  'rdel',
  'rpc',
  'prov',
  'unprov',
  'rpcres',
  'rpcerr',
  'rpcrej',
  'pjoin',
  'pleave',
  'pwatch',
  'punwatch',
  'lsn',
  'unlsn',
] as const
const KEYS = ['id', 'v', 'token', 'agent', 'ch', 'd', 'w', 'since', 'limit', 'n', 'p', 'iv', 'ops', 'a', 'to', 'c',
  'r', 'msg', 'code', 'm', 'cnt', 'k'] as const // prettier-ignore

const name = fc.constantFrom(
  'fz/a',
  'fz/b',
  'fz/*',
  'fz/**',
  'fz/watch',
  '',
  ' ',
  'a//b',
  '$records/fz',
  '__proto__',
  'x'.repeat(300),
)
const deep = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth)
const value = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: name },
  { weight: 2, arbitrary: fc.integer() },
  fc.record({ offset: fc.integer(), epoch: fc.string({ maxLength: 8 }) }),
  fc.record({ increment: fc.dictionary(fc.string({ maxLength: 3 }), fc.double()), unset: fc.array(fc.string()) }),
  fc.constantFrom(0, -1, 2 ** 53, 1e308, Number.MIN_VALUE, 'channel', 'record', true, null),
)
const message = fc
  .record({
    t: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: fc.string() }),
    id: fc.option(fc.oneof(fc.nat(100), fc.integer(), fc.string()), { nil: undefined }),
    fields: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }),
  })
  .map(({ t, id, fields }) => (id === undefined ? { ...fields, t } : { ...fields, t, id }))
/** Frames no well-behaved client sends. */
const nasty = fc.constantFrom(
  deep(100_000, '[', ']'),
  `{"t":"pub","id":1,"ch":"fz/a","d":${deep(5000, '{"a":', '}').replace(/}$/, '1}')}}`,
  '{"t":"pub","id":1,"ch":"fz/a","d":{"__proto__":{"polluted":1}}}',
  '{"t":"rset","id":1,"n":"fz/r","p":"__proto__.polluted","d":1}',
  '{"t":"rupd","id":1,"n":"fz/r","ops":{"increment":{"constructor.prototype.x":1}}}',
  '{"__proto__":{"t":"ping"}}',
  '{"t":"hello","id":0,"v":1,"token":"' + 'x'.repeat(20_000) + '"}',
  JSON.stringify(Array.from({ length: 1001 }, () => ({ t: 'ping' }))),
  '{"t":"sub","id":9007199254740993,"ch":"fz/a"}',
  '\u0000\uffff\ud800',
  '',
)
const frame = fc.oneof(
  { weight: 6, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.array(message, { maxLength: 4 }).map((ms) => JSON.stringify(ms)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }).map((b) => Buffer.from(b).toString('utf8')) },
  { weight: 1, arbitrary: nasty },
)

/** One connection over the in-memory transport, with everything it received and how it ended. */
class Peer {
  readonly received: unknown[] = []
  closed: { code: number; reason: string } | undefined
  private readonly peer: MemoryPeer
  private waiters: (() => void)[] = []

  /** `answersPings`: pongs every ping, as a client does (a peer that lives longer than the heartbeat timeout). */
  constructor(server: SwitchboardServer, answersPings = false) {
    const { transport, peer } = createMemoryTransport('127.0.0.9')
    this.peer = peer
    peer.onFrame = (text) => {
      const v = JSON.parse(text) as unknown // a frame that is not JSON fails the test here
      for (const m of Array.isArray(v) ? v : [v]) {
        this.received.push(m)
        if (answersPings && (m as { t?: unknown }).t === 'ping') peer.send('{"t":"pong"}')
      }
      this.wake()
    }
    peer.onClose = (code, reason) => {
      this.closed = { code, reason }
      this.wake()
    }
    transport.sink = server.accept(transport)
  }

  send(text: string): void {
    this.peer.send(text)
  }

  /** Resolves once `done()` holds, or fails after `ms` (real time) naming `what`. */
  async until(done: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 50)
      })
    }
  }

  close(): void {
    this.peer.close(1000, 'done')
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }
}

/** What every message a server sends must look like: a type; errors with a catalogue code. */
function checkAnswer(m: unknown): void {
  expect(typeof m === 'object' && m !== null && !Array.isArray(m)).toBe(true)
  const msg = m as { t?: unknown; code?: unknown; msg?: unknown; id?: unknown }
  expect(typeof msg.t).toBe('string')
  if (msg.t === 'err') {
    expect(isErrorCode(msg.code), `error code ${String(msg.code)}`).toBe(true)
    expect(msg.code).not.toBe('INTERNAL')
    expect(typeof msg.msg).toBe('string')
  }
  if (msg.t === 'ok') expect(Number.isSafeInteger(msg.id)).toBe(true)
}

describe('wire fuzzing: frames of every message type, random shapes and bytes', () => {
  const errors: string[] = []
  let server: SwitchboardServer
  let bystander: Peer
  let published = 0

  beforeAll(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) })
    server = createServer(
      {
        storage: { type: 'memory' },
        // The fuzzer is one connection sending fast: the flood limits are tested elsewhere.
        limits: { messagesPerSecond: 1_000_000, maxConnectionsPerIp: 0 },
        rpc: { defaultTimeoutMs: 200 },
      },
      { logger },
    )
    await server.ready
    // It lives for the whole file: a long hunt (FUZZ_RUNS) outlasts the heartbeat timeout.
    bystander = new Peer(server, true)
    bystander.send('{"t":"hello","id":0,"v":1}')
    bystander.send('{"t":"sub","id":1,"ch":"fz/watch"}')
    await bystander.until(() => bystander.received.some((m) => (m as { id?: number }).id === 1), 'the bystander')
  })
  afterAll(() => server.close())

  /** The bystander still works: a publication reaches it, and it is still open. */
  async function bystanderUnharmed(): Promise<void> {
    const n = ++published
    await server.publish('fz/watch', n)
    await bystander.until(
      () =>
        bystander.received.some((m) => (m as { t: string; d?: unknown }).t === 'msg' && (m as { d: unknown }).d === n),
      `publication ${n} at the bystander`,
    )
    expect(bystander.closed).toBeUndefined()
  }

  it('the server answers every frame with a well-formed message (errors with a code), closes only with catalogue codes, and nobody else notices', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { maxLength: 25 }), async (hello, frames) => {
        const peer = new Peer(server)
        if (hello) peer.send('{"t":"hello","id":0,"v":1}')
        for (const f of frames) peer.send(f)
        // Messages are handled in order: once the ping's pong is back, every frame was handled.
        peer.send('{"t":"ping"}')
        await peer.until(
          () => peer.closed !== undefined || peer.received.some((m) => (m as { t: string }).t === 'pong'),
          'the pong or a close',
        )
        for (const m of peer.received) checkAnswer(m)
        if (peer.closed) expect(Object.hasOwn(closeCodes, peer.closed.code), `close ${peer.closed.code}`).toBe(true)
        peer.close()
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
        expect(errors).toEqual([])
        await bystanderUnharmed()
      }),
      fuzzRuns(150),
    )
  })

  it('random bytes over a real WebSocket, as text and binary frames: answered or closed, never a crash', async () => {
    const { url } = await listen(server)
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()), { maxLength: 10 }),
        async (chunks) => {
          const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`)
          ws.on('error', () => {})
          const received: unknown[] = []
          ws.on('message', (d) => {
            const v = JSON.parse(d.toString()) as unknown
            for (const m of Array.isArray(v) ? v : [v]) received.push(m)
          })
          const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
          await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject))
          ws.send('{"t":"hello","id":0,"v":1}')
          for (const [bytes, binary] of chunks) ws.send(Buffer.from(bytes), { binary })
          ws.send('{"t":"ping"}')
          const pong = new Promise<void>((resolve) =>
            ws.on('message', () => received.some((m) => (m as { t: string }).t === 'pong') && resolve()),
          )
          const outcome = await Promise.race([
            pong.then(() => 'pong'),
            closed.then((c) => `closed ${c}`),
            timeout(5000),
          ])
          expect(outcome).not.toBe('timeout')
          for (const m of received) checkAnswer(m)
          ws.terminate()
          expect(errors).toEqual([])
        },
      ),
      fuzzRuns(40),
    )
    await bystanderUnharmed()
  })
})

let listening: Promise<{ url: string }> | undefined
function listen(server: SwitchboardServer): Promise<{ url: string }> {
  listening ??= server.listen({ port: 0, host: '127.0.0.1' })
  return listening
}

function timeout(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => setTimeout(() => resolve('timeout'), ms).unref())
}
