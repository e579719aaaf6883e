import { useConnectionState, useTransport } from '@switchboard/react'

/** The connection's state and the transport it runs on, live. */
export function Status() {
  const state = useConnectionState()
  const transport = useTransport()
  return (
    <>
      {transport && (
        <span className="badge" data-transport={transport} title="transport in use">
          {transport}
        </span>
      )}
      <span className={`badge ${state}`} data-state={state}>
        {state}
      </span>
    </>
  )
}
