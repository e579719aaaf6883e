import { valueAt, type QueryScalar } from '@switchboard/protocol'
import type { RecordStore, StoredRecord } from '@switchboard/storage'
import type { Logger } from '../log.js'
import type { Audience } from './audience.js'
import type { LiveView, ResolvedChange, ViewRouting } from './live-view.js'

/** Per record: the highest version heard of, and the highest handed to the views. */
interface Known {
  seen: number
  applied: number
}

interface Pending {
  name: string
  version: number
  /** The committed document (this node's commits), or absent: read it from storage. */
  data?: unknown
  exact: boolean
}

/** Views with an `==` condition on one path, by the value they ask for. */
interface EqualityIndex {
  segments: readonly string[]
  byValue: Map<QueryScalar, Set<LiveView>>
}

export interface FeedHost {
  readonly store: RecordStore
  readonly log: Logger
}

/** Records whose versions a feed remembers (LRU): enough to recognise the echo of every recent change. */
const MAX_KNOWN = 50_000
const RETRY_MS = 1000

/**
 * Every committed change of one collection, in order, handed to the collection's live views.
 *
 * Two inputs: this node's commits (`committed`, with the document, before the change is
 * published) and every change the engine delivers (`delivered`: this node's echoes and other
 * nodes' changes). A delivered version already heard of is dropped; another node's change is
 * resolved by reading the record from storage (one `getMany` per batch), which yields that
 * version or a later one. Versions handed to the views only go up per record, so a late,
 * older notification never rolls a row back.
 *
 * Routing: a change concerns a view only if the record can be in its result now or was held by
 * it. A view with an `==` condition is indexed by that condition's value, so a change reaches
 * the views whose value the new document has, the views holding the record, views without an
 * `==` condition, and views reading storage (they cannot know yet what they will hold). With
 * queries spread over many values of a field (a group, an owner, a status) a write costs the
 * few views it concerns, not every view of the collection.
 */
export class CollectionFeed implements ViewRouting {
  readonly views = new Set<LiveView>()
  /** Audiences of this collection's views, shared so each asks the rules once per change. */
  readonly audiences = new Map<string, Audience>()
  private readonly plain = new Set<LiveView>()
  private readonly reads = new Set<LiveView>()
  private readonly equalities = new Map<string, EqualityIndex>()
  /** Per record: the view holding it, or the views when several do (most records: one or none). */
  private readonly holders = new Map<string, LiveView | Set<LiveView>>()
  private readonly known = new Map<string, Known>()
  private queue: Pending[] = []
  private scheduled = false
  private draining = false
  private closed = false
  private changeStamp = 0

  constructor(
    readonly collection: string,
    private readonly host: FeedHost,
  ) {}

  add(view: LiveView): void {
    this.views.add(view)
    const eq = view.equality
    if (!eq) return void this.plain.add(view)
    let index = this.equalities.get(eq.path)
    if (!index) this.equalities.set(eq.path, (index = { segments: eq.segments, byValue: new Map() }))
    let set = index.byValue.get(eq.value)
    if (!set) index.byValue.set(eq.value, (set = new Set()))
    set.add(view)
  }

  remove(view: LiveView): void {
    this.views.delete(view)
    this.plain.delete(view)
    this.reads.delete(view)
    const eq = view.equality
    const index = eq && this.equalities.get(eq.path)
    if (eq && index) {
      const set = index.byValue.get(eq.value)
      set?.delete(view)
      if (set?.size === 0) index.byValue.delete(eq.value)
      if (index.byValue.size === 0) this.equalities.delete(eq.path)
    }
    for (const name of view.heldNames()) this.released(view, name)
  }

  // ---- ViewRouting -------------------------------------------------------------------------

  held(view: LiveView, name: string): void {
    const held = this.holders.get(name)
    if (held === undefined) this.holders.set(name, view)
    else if (held instanceof Set) held.add(view)
    else if (held !== view) this.holders.set(name, new Set([held, view]))
  }

  released(view: LiveView, name: string): void {
    const held = this.holders.get(name)
    if (held === view) this.holders.delete(name)
    else if (held instanceof Set && held.delete(view) && held.size === 1) {
      this.holders.set(name, held.values().next().value as LiveView)
    }
  }

  reading(view: LiveView, on: boolean): void {
    if (on && this.views.has(view)) this.reads.add(view)
    else this.reads.delete(view)
  }

  // ---- changes -----------------------------------------------------------------------------

  committed(name: string, version: number, data: unknown): void {
    const known = this.touch(name)
    if (known.seen < version) known.seen = version
    this.push({ name, version, data, exact: true })
  }

  delivered(name: string, version: number): void {
    const known = this.touch(name)
    if (known.seen >= version) return
    known.seen = version
    this.push({ name, version, exact: false })
  }

  close(): void {
    this.closed = true
    this.queue = []
  }

  private push(change: Pending): void {
    if (this.closed) return
    this.queue.push(change)
    if (this.scheduled || this.draining) return
    // A microtask: the commits of one group-commit batch are handed over together.
    this.scheduled = true
    queueMicrotask(() => void this.drain())
  }

  private async drain(): Promise<void> {
    this.scheduled = false
    this.draining = true
    try {
      while (this.queue.length > 0 && !this.closed) {
        const batch = this.queue
        this.queue = []
        const unresolved = [...new Set(batch.filter((c) => !c.exact).map((c) => c.name))]
        const stored = unresolved.length > 0 ? await this.read(unresolved) : undefined
        if (this.closed) return
        const touched = new Set<LiveView>()
        for (const change of batch) {
          let { version, data } = change
          if (!change.exact) {
            const entry = stored?.get(change.name)
            if (!entry) continue
            version = entry.version
            data = entry.data
          }
          const known = this.touch(change.name)
          if (known.applied >= version) continue
          known.applied = version
          if (known.seen < version) known.seen = version
          this.route({ name: change.name, version, data }, touched)
        }
        for (const view of touched) view.settle()
      }
    } finally {
      this.draining = false
    }
  }

  /** Hands a change to every view it may concern, once each. */
  private route(change: ResolvedChange, touched: Set<LiveView>): void {
    const stamp = ++this.changeStamp
    const give = (view: LiveView) => {
      if (view.stamp === stamp) return
      view.stamp = stamp
      view.apply(change)
      touched.add(view)
    }
    this.plain.forEach(give)
    this.reads.forEach(give)
    const holders = this.holders.get(change.name)
    if (holders instanceof Set) holders.forEach(give)
    else if (holders) give(holders)
    if (change.data === undefined) return
    for (const index of this.equalities.values()) {
      const value = valueAt(change.data, index.segments)
      if (value === undefined || (typeof value === 'object' && value !== null)) continue
      index.byValue.get(value as QueryScalar)?.forEach(give)
    }
  }

  /** Reads records from storage, retrying while storage fails (changes wait in order meanwhile). */
  private async read(names: string[]): Promise<Map<string, StoredRecord>> {
    for (;;) {
      try {
        return await this.host.store.getMany(names)
      } catch (err) {
        this.host.log.error({ err, collection: this.collection }, 'live queries could not read changed records')
        if (this.closed) return new Map()
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
      }
    }
  }

  private touch(name: string): Known {
    let known = this.known.get(name)
    if (known) {
      this.known.delete(name)
    } else {
      known = { seen: 0, applied: 0 }
      if (this.known.size >= MAX_KNOWN) this.known.delete(this.known.keys().next().value as string)
    }
    this.known.set(name, known)
    return known
  }
}
