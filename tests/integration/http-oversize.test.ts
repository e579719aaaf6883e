// A request body over limits.maxMessageBytes is refused early with 413; the answer must reach
// the client even when it keeps sending and asked for `Connection: close`.
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Resources } from '../support/server.js'

const res = new Resources()
afterEach(() => res.cleanup())

/**
 * Sends a PUT with a 10 MiB JSON body over a raw socket and returns everything the server
 * answered. Like most HTTP clients it reads the answer only once it has sent the body (or the
 * server stopped taking it): what a reset erased by then is lost.
 */
function oversizedPut(port: number, headers: string): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.pause()
    const chunks: Buffer[] = []
    let error: string | undefined
    const timer = setTimeout(() => socket.destroy(new Error('no close within 10 s')), 10_000)
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', (err) => (error = err.message))
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), ...(error === undefined ? {} : { error }) })
    })
    const size = 10 * 1024 * 1024
    socket.write(
      `PUT /api/records/big HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
        `content-length: ${size}\r\n${headers}\r\n`,
    )
    const chunk = Buffer.alloc(64 * 1024, 'x')
    let left = size
    const pump = (): void => {
      while (left > 0 && !socket.destroyed) {
        left -= chunk.length
        if (!socket.write(chunk)) {
          socket.once('drain', pump)
          return
        }
      }
      socket.resume()
    }
    socket.on('error', () => socket.resume())
    pump()
  })
}

describe('an early 413', () => {
  it.each([
    ['Connection: close', 'connection: close\r\n'],
    ['keep-alive', ''],
  ])('reaches a client that keeps sending (%s): the server answers, then closes gracefully', async (_name, headers) => {
    const { port } = await res.server({ limits: { maxMessageBytes: '1MiB' } })
    for (let attempt = 0; attempt < 10; attempt++) {
      const { answer } = await oversizedPut(port, headers)
      expect(answer).toMatch(/^HTTP\/1\.1 413 /)
      expect(answer).toMatch(/connection: close/i)
      expect(answer).toContain('"code":"TOO_LARGE"')
    }
  })
})
