import type { IncomingMessage } from 'node:http'
import { SwitchboardError } from '../errors.js'

/**
 * Reads a JSON request body of at most `maxBytes` (limits.maxMessageBytes). Rejects with
 * TOO_LARGE as soon as the body (or its declared length) is over the limit, without buffering
 * the rest, and with INVALID_MESSAGE for another content type or text that is not JSON. The
 * rest of a refused body is drained by the answer (`sendRefusal`), so the answer is read.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const type = req.headers['content-type']
  if (type !== undefined && !/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    return Promise.reject(new SwitchboardError('INVALID_MESSAGE', `expected a JSON body, got content-type ${type}`))
  }
  const declared = Number(req.headers['content-length'])
  if (declared > maxBytes) return Promise.reject(tooLarge(maxBytes))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const fail = (err: SwitchboardError) => {
      req.off('data', onData)
      req.resume() // drain what is still coming, so the response can be read by the client
      reject(err)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) fail(tooLarge(maxBytes))
      else chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('error', () => fail(new SwitchboardError('INVALID_MESSAGE', 'the request body could not be read')))
    req.once('end', () => {
      if (size > maxBytes) return
      // Most bodies arrive in one chunk (a /send of a few frames): decoded as it is, not copied first.
      const text = (chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size)).toString('utf8')
      if (text.trim() === '') return reject(new SwitchboardError('INVALID_MESSAGE', 'the request body is empty'))
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new SwitchboardError('INVALID_MESSAGE', 'the request body is not valid JSON'))
      }
    })
  })
}

const tooLarge = (maxBytes: number) =>
  new SwitchboardError('TOO_LARGE', `the request body exceeds maxMessageBytes (${maxBytes} bytes)`)
