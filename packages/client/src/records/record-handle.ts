import {
  getPath,
  isPlainObject,
  parsePath,
  type RecordDocument,
  type RecordMutation,
  type UpdateOps,
} from '@switchboard/protocol'
import { Emitter } from '../emitter.js'
import { SwitchboardError } from '../errors.js'
import type { RecordObserver, SharedRecord } from './shared-record.js'

export interface RecordWriteOptions {
  /** Fail with VERSION_CONFLICT (and roll back) unless the record is at this version on the server. */
  ifVersion?: number
}

export interface RecordEvents extends Record<string, unknown> {
  /** A write was rejected (its change is rolled back) or the subscription failed. */
  error: SwitchboardError
}

type Listener = { path: string | undefined; fn: (value: unknown) => void }

/**
 * The app's handle on a record (`sb.record(name)`). Every handle on one name shares one local
 * copy and one server subscription; `discard()` releases this handle (the subscription ends
 * with the last one). Treat `data` and values passed to listeners as read-only.
 */
export class RecordHandle<T extends RecordDocument = RecordDocument>
  extends Emitter<RecordEvents>
  implements RecordObserver
{
  /** Resolves once the first snapshot arrived; rejects with e.g. PERMISSION_DENIED. */
  readonly ready: Promise<void>
  private readonly watchers = new Set<Listener>()
  private discarded = false

  constructor(
    readonly name: string,
    private readonly shared: SharedRecord,
    private readonly release: (handle: RecordHandle<T>) => void,
  ) {
    super()
    this.ready = shared.ready
    shared.observers.add(this)
  }

  /** The document as this client sees it (server state plus its own unconfirmed writes). */
  get data(): T | undefined {
    return this.shared.local as T | undefined
  }

  get version(): number {
    return this.shared.version
  }

  get exists(): boolean {
    return this.shared.local !== undefined
  }

  /** The value at a dotted path (`address.city`, `items.0`), or the document without one. */
  get(path?: string): unknown {
    return path === undefined ? this.shared.local : getPath(this.shared.local, path)
  }

  /**
   * Calls `fn` whenever the document (or the value at `path`) changes: server changes, this
   * client's own writes at once, and rollbacks. Returns a function that stops it.
   */
  subscribe(fn: (data: T | undefined) => void): () => void
  subscribe(path: string, fn: (value: unknown) => void): () => void
  subscribe(pathOrFn: string | ((data: T | undefined) => void), maybeFn?: (value: unknown) => void): () => void {
    const listener: Listener =
      typeof pathOrFn === 'string'
        ? { path: pathOrFn, fn: maybeFn as (value: unknown) => void }
        : { path: undefined, fn: pathOrFn as (value: unknown) => void }
    this.watchers.add(listener)
    return () => this.watchers.delete(listener)
  }

  /** Replaces the whole document, or sets one path. Applies locally at once. */
  set(data: T, options?: RecordWriteOptions): Promise<{ version: number }>
  set(path: string, value: unknown, options?: RecordWriteOptions): Promise<{ version: number }>
  set(
    pathOrData: string | T,
    valueOrOptions?: unknown,
    maybeOptions?: RecordWriteOptions,
  ): Promise<{ version: number }> {
    if (typeof pathOrData === 'string') {
      if (!parsePath(pathOrData)) return this.invalid(`invalid path: ${pathOrData}`)
      if (valueOrOptions === undefined) return this.invalid('set needs a value (use update({ unset }) to remove one)')
      return this.write({ kind: 'set', path: pathOrData, value: valueOrOptions }, maybeOptions)
    }
    if (!isPlainObject(pathOrData)) return this.invalid("a record's document must be a JSON object")
    return this.write({ kind: 'set', value: pathOrData }, valueOrOptions as RecordWriteOptions | undefined)
  }

  /** Atomic operations applied at the server: `{ increment, push, unset }`. */
  update(ops: UpdateOps, options?: RecordWriteOptions): Promise<{ version: number }> {
    const paths = [...Object.keys(ops.increment ?? {}), ...Object.keys(ops.push ?? {}), ...(ops.unset ?? [])]
    if (paths.length === 0) return this.invalid('update has no operations')
    const max = this.shared.maxUpdateOps
    if (max !== undefined && paths.length > max) {
      return this.invalid(
        `update has ${paths.length} operations; the server takes at most ${max} (limits.maxUpdateOps)`,
      )
    }
    const bad = paths.find((p) => !parsePath(p))
    if (bad !== undefined) return this.invalid(`invalid path: ${bad}`)
    return this.write({ kind: 'update', ops }, options)
  }

  delete(options?: RecordWriteOptions): Promise<{ version: number }> {
    return this.write({ kind: 'delete' }, options)
  }

  /** Releases this handle; the last handle on a name ends the subscription. */
  discard(): void {
    if (this.discarded) return
    this.discarded = true
    this.watchers.clear()
    this.shared.observers.delete(this)
    this.release(this)
  }

  /** @internal */
  changed(previous: RecordDocument | undefined): void {
    const next = this.shared.local
    for (const l of [...this.watchers]) {
      const value = l.path === undefined ? next : getPath(next, l.path)
      if (l.path !== undefined && value === getPath(previous, l.path)) continue
      try {
        l.fn(value)
      } catch (err) {
        setTimeout(() => {
          throw err
        })
      }
    }
  }

  /** @internal */
  failed(error: SwitchboardError): void {
    this.emit('error', error)
  }

  private write(mutation: RecordMutation, options: RecordWriteOptions = {}): Promise<{ version: number }> {
    if (this.discarded)
      return Promise.reject(new SwitchboardError('CLOSED', `the handle on ${this.name} was discarded`))
    return this.shared.write(mutation, options.ifVersion)
  }

  private invalid(message: string): Promise<never> {
    return Promise.reject(new SwitchboardError('INVALID_DATA', message))
  }
}
