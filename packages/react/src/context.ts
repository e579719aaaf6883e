import type { Switchboard } from '@switchboard/client'
import { createContext, createElement, useContext, type ReactNode } from 'react'

const SwitchboardContext = createContext<Switchboard | null>(null)

export interface SwitchboardProviderProps {
  /** The client the hooks below use. The app creates it and calls `connect()`. */
  client: Switchboard
  children?: ReactNode
}

/** Makes `client` available to every hook below it. */
export function SwitchboardProvider({ client, children }: SwitchboardProviderProps): ReactNode {
  return createElement(SwitchboardContext.Provider, { value: client }, children)
}

/** The client from the nearest `<SwitchboardProvider>`; throws outside one. */
export function useSwitchboard(): Switchboard {
  const client = useContext(SwitchboardContext)
  if (!client) throw new Error('Switchboard hooks must be used inside <SwitchboardProvider client={…}>')
  return client
}
