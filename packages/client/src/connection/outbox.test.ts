import { SwitchboardError } from '@switchboard/protocol'
import { describe, expect, it } from 'vitest'
import { Outbox } from './outbox.js'

describe('Outbox', () => {
  it('on a drop, idempotent requests go back to the front of the queue in send order; the others fail', async () => {
    const written: string[] = []
    const outbox = new Outbox(10, (frame) => written.push(frame))
    const a = outbox.send({ t: 'pub', ch: 'c', d: 1, w: 'a' }, { resend: true })
    const h = outbox.send({ t: 'hist', ch: 'c' })
    const b = outbox.send({ t: 'pub', ch: 'c', d: 2, w: 'b' }, { resend: true })
    const queued = outbox.enqueue({ t: 'pub', ch: 'c', d: 3, w: 'c' }, { resend: true })

    outbox.failInFlight(new SwitchboardError('DISCONNECTED'))
    await expect(h).rejects.toMatchObject({ code: 'DISCONNECTED' })
    written.length = 0
    outbox.flush()
    expect(written.map((f) => (JSON.parse(f) as { w: string }).w)).toEqual(['a', 'b', 'c'])
    const ids = written.map((f) => (JSON.parse(f) as { id: number }).id)
    outbox.settle(ids[0]!, { o: 1 })
    outbox.settle(ids[1]!, { o: 2 })
    outbox.settle(ids[2]!, { o: 3 })
    await expect(Promise.all([a, b, queued])).resolves.toEqual([{ o: 1 }, { o: 2 }, { o: 3 }])
  })

  it('a client that stops fails what was sent again with its error', async () => {
    const outbox = new Outbox(10, () => {})
    const a = outbox.send({ t: 'pub', ch: 'c', d: 1, w: 'a' }, { resend: true })
    outbox.failInFlight(new SwitchboardError('DISCONNECTED'))
    outbox.failQueued(new SwitchboardError('CLOSED'))
    await expect(a).rejects.toMatchObject({ code: 'CLOSED' })
  })
})
