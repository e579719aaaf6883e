import { isErrorCode, retryableCodes, type ErrorCode } from './codes.js'

/**
 * The one error type of Switchboard, on both sides of the wire: a stable `code` from the
 * catalogue in codes.ts plus a human message. The server throws it across its seams and sends
 * its code as is; the client rejects with it.
 */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  constructor(
    readonly code: ErrorCode,
    message: string = code,
    readonly data?: unknown,
  ) {
    super(message)
  }

  get retryable(): boolean {
    return retryableCodes[this.code]
  }

  /** From an `err` message's fields, which come off the wire and are not trusted. */
  static from(code: unknown, message: unknown, data?: unknown): SwitchboardError {
    return new SwitchboardError(
      isErrorCode(code) ? code : 'INTERNAL',
      typeof message === 'string' ? message : 'error',
      data,
    )
  }
}
