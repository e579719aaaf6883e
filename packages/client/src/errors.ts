import { errorCodes, isErrorCode, type ErrorCode } from '@switchboard/protocol'

/** Every failure the client reports: a stable `code` from the protocol catalogue plus a message. */
export class SwitchboardError extends Error {
  override readonly name = 'SwitchboardError'
  constructor(
    readonly code: ErrorCode,
    message: string = errorCodes[code].description,
    readonly data?: unknown,
  ) {
    super(message)
  }

  get retryable(): boolean {
    return errorCodes[this.code].retryable
  }

  static from(code: unknown, message: unknown, data?: unknown): SwitchboardError {
    return new SwitchboardError(
      isErrorCode(code) ? code : 'INTERNAL',
      typeof message === 'string' ? message : 'error',
      data,
    )
  }
}
