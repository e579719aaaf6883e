import { Switchboard } from '@switchboard/client'
import { SwitchboardProvider } from '@switchboard/react'
import { StrictMode, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'
import { afterEach, beforeEach, expect } from 'vitest'

/** A React tree rendered into a detached DOM node (no act(): tests wait for what they expect). */
export interface Mounted {
  container: HTMLElement
  render(node: ReactNode): void
  unmount(): void
}

/** Renders `node` under a provider for `client`, optionally inside <StrictMode>. */
export function mount(client: Switchboard, node: ReactNode, options: { strict?: boolean } = {}): Mounted {
  const container = document.createElement('div')
  const root = createRoot(container)
  const wrap = (n: ReactNode) => {
    const tree = <SwitchboardProvider client={client}>{n}</SwitchboardProvider>
    return options.strict ? <StrictMode>{tree}</StrictMode> : tree
  }
  root.render(wrap(node))
  mounted.add(root)
  return {
    container,
    render: (n) => root.render(wrap(n)),
    unmount() {
      mounted.delete(root)
      root.unmount()
    },
  }
}

const mounted = new Set<{ unmount(): void }>()
let consoleErrors: unknown[][] = []
const originalError = console.error

/**
 * Unmounts what a test left mounted, and fails the test if React (or anything) logged an error:
 * warnings about keys, effects or updates after unmount are bugs here.
 */
beforeEach(() => {
  consoleErrors = []
  console.error = (...args: unknown[]) => {
    consoleErrors.push(args)
    originalError(...args)
  }
})

afterEach(() => {
  for (const root of mounted) root.unmount()
  mounted.clear()
  console.error = originalError
  expect(consoleErrors, 'console.error calls').toEqual([])
})

/** Records what a hook returned on every render, for assertions outside React. */
export class Probe<T> {
  readonly renders: T[] = []
  get latest(): T | undefined {
    return this.renders[this.renders.length - 1]
  }
  see = (value: T): null => {
    this.renders.push(value)
    return null
  }
}
