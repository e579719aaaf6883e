import { describe, expect, it } from 'vitest'
import type { RecordChangeMessage, RecordDocument } from '@switchboard/protocol'
import type { Connection, RequestBody } from '../connection/connection.js'
import { SwitchboardError } from '../errors.js'
import { SharedRecord } from './shared-record.js'

/** A connection whose requests the test answers by hand. */
class FakeConnection {
  readonly sent: { body: RequestBody; resolve(r: unknown): void; reject(e: SwitchboardError): void }[] = []
  request<R>(body: RequestBody): Promise<R> {
    return new Promise<R>((resolve, reject) =>
      this.sent.push({ body, resolve: resolve as (r: unknown) => void, reject }),
    )
  }
  last(t: string) {
    const found = [...this.sent].reverse().find((s) => s.body.t === t)
    if (!found) throw new Error(`no ${t} sent`)
    return found
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

function setup() {
  const conn = new FakeConnection()
  let n = 0
  const rec = new SharedRecord('doc/1', conn as unknown as Connection, () => `w${++n}`)
  const seen: (RecordDocument | undefined)[] = []
  const errors: string[] = []
  rec.observers.add({ changed: () => seen.push(rec.local), failed: (e) => errors.push(e.code) })
  return { conn, rec, seen, errors }
}

const change = (v: number, extra: Partial<RecordChangeMessage>): RecordChangeMessage => ({
  t: 'rchg',
  n: 'doc/1',
  v,
  ...extra,
})

describe('a shared record copy', () => {
  it('applies changes in version order; a gap makes it re-read instead of applying out of order', async () => {
    const { conn, rec } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 1, d: { n: 1 } })
    await tick()
    expect(rec.loaded).toBe(true)
    rec.onChange(change(2, { ops: { increment: { n: 1 } } }))
    expect(rec.local).toEqual({ n: 2 })
    rec.onChange(change(2, { ops: { increment: { n: 1 } } })) // a repeat: ignored
    expect(rec.local).toEqual({ n: 2 })
    rec.onChange(change(4, { ops: { increment: { n: 100 } } })) // 3 is missing
    expect(rec.local).toEqual({ n: 2 })
    const get = conn.last('rget')
    rec.onChange(change(5, { p: 'x', d: 'five' })) // waits behind the re-read
    get.resolve({ v: 4, d: { n: 103 } })
    await tick()
    expect(rec.version).toBe(5)
    expect(rec.local).toEqual({ n: 103, x: 'five' })
  })

  it('applies a whole state across a version gap (a lagging subscriber: coalesced changes), never an older one', async () => {
    const { conn, rec } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 1, d: { n: 1 } })
    await tick()
    rec.onChange(change(7, { d: { n: 7 } })) // versions 2..6 coalesced into the state at 7
    expect(rec.version).toBe(7)
    expect(rec.local).toEqual({ n: 7 })
    rec.onChange(change(5, { d: { n: 5 } })) // older: ignored
    expect(rec.local).toEqual({ n: 7 })
    rec.onChange(change(9, { del: true })) // a delete is a whole state too
    expect(rec.version).toBe(9)
    expect(rec.local).toBeUndefined()
    rec.onChange(change(10, { p: 'n', d: 10 }))
    expect(rec.local).toEqual({ n: 10 })
    expect(conn.sent.filter((s) => s.body.t === 'rget')).toEqual([]) // no re-read needed
  })

  it('recognises its own change by write id: a write is never applied twice, not even for a moment', async () => {
    const { conn, rec, seen } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 1, d: { n: 0 } })
    await tick()
    const done = rec.write({ kind: 'update', ops: { increment: { n: 1 } } }, undefined)
    expect(rec.local).toEqual({ n: 1 })
    const sent = conn.last('rupd')
    expect(sent.body).toMatchObject({ t: 'rupd', n: 'doc/1', w: 'w1' })
    // The change arrives before the ack's callback runs (same frame): no double increment.
    rec.onChange(change(2, { ops: { increment: { n: 1 } }, w: 'w1' }))
    sent.resolve({ v: 2 })
    expect(await done).toEqual({ version: 2 })
    expect(seen.map((d) => d?.n)).toEqual([0, 1])
    expect(rec.local).toEqual({ n: 1 })
  })

  it('an ack ahead of its change moves the version at once and keeps the write applied until the change comes', async () => {
    const { conn, rec } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 3, d: { a: 1 } })
    await tick()
    const done = rec.write({ kind: 'set', path: 'b', value: 2 }, undefined)
    conn.last('rset').resolve({ v: 5 })
    await done
    expect(rec.version).toBe(5)
    expect(rec.local).toEqual({ a: 1, b: 2 })
    rec.onChange(change(4, { p: 'c', d: 3 })) // someone else's, committed before ours
    expect(rec.local).toEqual({ a: 1, b: 2, c: 3 })
    rec.onChange(change(5, { p: 'b', d: 2 })) // ours, without a write id (another node may strip nothing, but be safe)
    expect(rec.local).toEqual({ a: 1, b: 2, c: 3 })
    expect(rec.version).toBe(5)
  })

  it('a refused write is rolled back and reported', async () => {
    const { conn, rec, errors, seen } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 1, d: { t: 'server' } })
    await tick()
    const done = rec.write({ kind: 'set', path: 't', value: 'mine' }, 0)
    expect(conn.last('rset').body).toMatchObject({ iv: 0 })
    expect(rec.local).toEqual({ t: 'mine' })
    conn.last('rset').reject(new SwitchboardError('VERSION_CONFLICT', 'stale', { version: 1, data: { t: 'server' } }))
    await expect(done).rejects.toMatchObject({ code: 'VERSION_CONFLICT' })
    expect(rec.local).toEqual({ t: 'server' })
    expect(errors).toEqual(['VERSION_CONFLICT'])
    expect(seen.map((d) => d?.t)).toEqual(['server', 'mine', 'server'])
  })

  it('resends a write cut off by a disconnect with the same write id, and drops what the new snapshot already includes', async () => {
    const { conn, rec } = setup()
    rec.subscribe()
    conn.last('rsub').resolve({ v: 1, d: { n: 0 } })
    await tick()
    const done = rec.write({ kind: 'update', ops: { increment: { n: 1 } } }, undefined)
    conn.last('rupd').reject(new SwitchboardError('DISCONNECTED', 'dropped'))
    await tick()
    const resent = conn.last('rupd')
    expect(resent.body).toMatchObject({ w: 'w1' })
    // The reconnect: resubscribe with the known version and the uncertain write id.
    rec.subscribe()
    const rsub = conn.last('rsub')
    expect(rsub.body).toMatchObject({ v: 1, w: ['w1'] })
    rsub.resolve({ v: 2, d: { n: 1 }, w: ['w1'] })
    await tick()
    expect(rec.local).toEqual({ n: 1 })
    resent.resolve({ v: 2 })
    expect(await done).toEqual({ version: 2 })
    expect(rec.local).toEqual({ n: 1 })
  })

  it('a subscription refused by the server fails the copy: ready rejects, writes fail', async () => {
    const { conn, rec, errors } = setup()
    rec.subscribe()
    conn.last('rsub').reject(new SwitchboardError('PERMISSION_DENIED', 'no'))
    await expect(rec.ready).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
    expect(errors).toEqual(['PERMISSION_DENIED'])
    await expect(rec.write({ kind: 'delete' }, undefined)).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })
})
