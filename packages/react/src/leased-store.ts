/** What `useSyncExternalStore` reads. */
export interface ExternalStore<S> {
  subscribe(listener: () => void): () => void
  getSnapshot(): S
}

/** Opens the resource behind a store; `update` replaces the snapshot. Returns the function that releases it. */
export type OpenResource<S> = (update: (next: S) => void, current: () => S) => () => void

/**
 * A store for one hook instance whose resource (a record handle, a subscription, a live query)
 * is opened by the first `subscribe` and released one microtask after the last unsubscribe.
 * StrictMode's mount → unmount → mount runs within one task, so the resource is opened once and
 * released once, and the server sees no churn. Updates from a released resource are ignored.
 * Creating a store has no side effects, so React may create and drop them during render.
 */
export function leasedStore<S>(initial: S, open: OpenResource<S>): ExternalStore<S> {
  let snapshot = initial
  let listener: (() => void) | undefined
  let release: (() => void) | undefined
  let releasing = false
  let generation = 0
  return {
    getSnapshot: () => snapshot,
    subscribe(next) {
      listener = next
      releasing = false
      if (!release) {
        const mine = ++generation
        const update = (value: S) => {
          if (mine !== generation || Object.is(value, snapshot)) return
          snapshot = value
          listener?.()
        }
        release = open(update, () => snapshot)
      }
      return () => {
        if (listener === next) listener = undefined
        releasing = true
        queueMicrotask(() => {
          if (!releasing || !release) return
          const close = release
          releasing = false
          release = undefined
          generation++
          close()
        })
      }
    },
  }
}
