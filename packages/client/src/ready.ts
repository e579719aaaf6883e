import type { SwitchboardError } from './errors.js'

/**
 * A `ready` promise and the function that settles it, once. The promise never counts as an
 * unhandled rejection: apps that never await `ready` hear of failures through 'error' events.
 */
export function readySignal(): { ready: Promise<void>; settle: (error?: SwitchboardError) => void } {
  let settle!: (error?: SwitchboardError) => void
  const ready = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve())
  })
  ready.catch(() => {})
  return { ready, settle }
}
