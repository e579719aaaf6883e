import type {
  RecordDocument,
  RecordHandle,
  RecordWriteOptions,
  Switchboard,
  SwitchboardError,
  UpdateOps,
} from '@switchboard/client'
import { useMemo, useSyncExternalStore } from 'react'
import { useSwitchboard } from './context.js'
import { leasedStore, type ExternalStore } from './leased-store.js'

export interface RecordState<T extends RecordDocument> {
  /** The document as this client sees it (its own unconfirmed writes applied), or undefined. */
  readonly data: T | undefined
  readonly version: number
  /** False until the first snapshot arrived. */
  readonly ready: boolean
  readonly exists: boolean
  /** Why the subscription failed, or the latest rejected write (its change was rolled back). */
  readonly error: SwitchboardError | null
}

export interface RecordWriters<T extends RecordDocument> {
  /** Replaces the whole document, or sets one path; applies locally at once. */
  set(data: T, options?: RecordWriteOptions): Promise<{ version: number }>
  set(path: string, value: unknown, options?: RecordWriteOptions): Promise<{ version: number }>
  /** Atomic operations: `{ increment, push, unset }`. */
  update(ops: UpdateOps, options?: RecordWriteOptions): Promise<{ version: number }>
  /** Deletes the record (`delete` is a keyword in destructuring). */
  remove(options?: RecordWriteOptions): Promise<{ version: number }>
}

export type RecordResult<T extends RecordDocument> = RecordState<T> & RecordWriters<T>

const INITIAL: RecordState<never> = { data: undefined, version: 0, ready: false, exists: false, error: null }

interface RecordStore<T extends RecordDocument> extends ExternalStore<RecordState<T>> {
  writers: RecordWriters<T>
}

/**
 * The live record `name`: re-rendered on every change of its local copy. Every component (and
 * `sb.record`) using one name shares one copy and one server subscription; it ends when the last
 * one is gone.
 */
export function useRecord<T extends RecordDocument = RecordDocument>(name: string): RecordResult<T> {
  const client = useSwitchboard()
  const store = useMemo(() => recordStore<T>(client, name), [client, name])
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot)
  return useMemo(() => ({ ...state, ...store.writers }), [state, store])
}

function recordStore<T extends RecordDocument>(client: Switchboard, name: string): RecordStore<T> {
  let held: RecordHandle<T> | undefined
  let refresh: (() => void) | undefined
  const store = leasedStore<RecordState<T>>(INITIAL, (update, current) => {
    const handle = client.record<T>(name)
    held = handle
    let ready = false
    let error: SwitchboardError | null = null
    const read = () => {
      const now = current()
      if (now.data === handle.data && now.version === handle.version && now.ready === ready && now.error === error)
        return
      update({ data: handle.data, version: handle.version, ready, exists: handle.exists, error })
    }
    refresh = read
    const stopWatching = handle.subscribe(read)
    const stopErrors = handle.on('error', (e) => {
      error = e
      read()
    })
    handle.ready.then(
      () => {
        ready = true
        read()
      },
      (e: SwitchboardError) => {
        error = e
        read()
      },
    )
    read()
    return () => {
      stopWatching()
      stopErrors()
      if (held === handle) held = refresh = undefined
      handle.discard()
    }
  })

  /** Writes through the held handle (or a short-lived one); the version is re-read once it settles. */
  const write = (run: (handle: RecordHandle<T>) => Promise<{ version: number }>) => {
    const temporary = held === undefined
    const handle = held ?? client.record<T>(name)
    const promise = run(handle)
    const settled = () => {
      if (temporary) handle.discard()
      else if (handle === held) refresh?.()
    }
    promise.then(settled, settled)
    return promise
  }
  const writers: RecordWriters<T> = {
    set: ((first: string | T, second?: unknown, third?: RecordWriteOptions) =>
      write((h) =>
        typeof first === 'string' ? h.set(first, second, third) : h.set(first, second as RecordWriteOptions),
      )) as RecordWriters<T>['set'],
    update: (ops, options) => write((h) => h.update(ops, options)),
    remove: (options) => write((h) => h.delete(options)),
  }
  return { ...store, writers }
}
