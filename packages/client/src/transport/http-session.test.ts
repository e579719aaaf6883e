import { getEventListeners } from 'node:events'
import { describe, expect, it } from 'vitest'
import { retrying } from './http-session.js'

describe('retrying', () => {
  it('leaves no listener on the session signal once a request is done (a poll loop reuses it)', async () => {
    const session = new AbortController()
    const seen: AbortSignal[] = []
    for (let i = 0; i < 50; i++) {
      const n = await retrying(
        (signal) => {
          seen.push(signal)
          return Promise.resolve(new Response(JSON.stringify(i)))
        },
        session.signal,
        (r) => r.json() as Promise<number>,
      )
      expect(n).toBe(i)
    }
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0)
    expect(new Set(seen).size).toBe(50) // a signal of its own for every request
  })

  it('aborting the session aborts the request in flight', async () => {
    const session = new AbortController()
    const pending = retrying(
      (signal) =>
        new Promise<Response>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))),
      session.signal,
    )
    session.abort(new Error('closed'))
    await expect(pending).rejects.toThrow('closed')
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0)
  })
})
