import { useConnectionState } from '@switchboard/react'

/** The connection's state, live. */
export function Status() {
  const state = useConnectionState()
  return (
    <span className={`badge ${state}`} data-state={state}>
      {state}
    </span>
  )
}
