import type { IncomingMessage, ServerResponse } from 'node:http'
import { errorCodes, type ErrorCode } from '@switchboard/protocol'
import { errorBody, sendError } from './router.js'

/** How long the rest of a refused request's body is read before its connection closes anyway. */
const LINGER_MS = 5_000

/**
 * Sends an error answer, also to a request whose body is still arriving (refused before it was
 * read, e.g. TOO_LARGE from its Content-Length). Closing a socket while the peer still sends
 * makes the kernel answer with a reset, which can erase the answer before the client reads it:
 * so such an answer says `connection: close`, the rest of the body is read and discarded, and
 * the response ends (and Node closes the connection) once the body is in, or after LINGER_MS.
 */
export function sendRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  status: number | undefined,
  code: ErrorCode,
  message: string,
  data?: unknown,
): void {
  if (req.complete || res.headersSent) return sendError(res, status, code, message, data)
  const text = JSON.stringify(errorBody(code, message, data))
  res.writeHead(status ?? errorCodes[code].http, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  })
  res.write(text)
  const finish = (): void => {
    clearTimeout(timer)
    req.off('end', finish).off('error', finish)
    res.off('close', finish)
    if (!res.writableEnded) res.end()
  }
  const timer = setTimeout(finish, LINGER_MS)
  timer.unref()
  req.once('end', finish).once('error', finish)
  res.once('close', finish)
  req.resume()
}
