import { errorCodes, type ErrorCode } from '@switchboard/protocol'

/** The one error type thrown across server seams; its code goes on the wire as is. */
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
}

/** Turns anything thrown into a coded error without leaking internals (stack traces stay in logs). */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err
  return new SwitchboardError('INTERNAL', 'internal server error')
}
