import { SwitchboardError } from '@switchboard/protocol'

export { SwitchboardError }

/** Turns anything thrown into a coded error without leaking internals (stack traces stay in logs). */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err
  return new SwitchboardError('INTERNAL', 'internal server error')
}
