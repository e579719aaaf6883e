import type { RecordStore, StoredRecord } from '@switchboard/storage'
import type { Logger } from '../log.js'
import type { Audience } from './audience.js'
import type { LiveView } from './live-view.js'

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
 */
export class CollectionFeed {
  readonly views = new Set<LiveView>()
  /** Audiences of this collection's views, shared so each asks the rules once per change. */
  readonly audiences = new Map<string, Audience>()
  private readonly known = new Map<string, Known>()
  private queue: Pending[] = []
  private scheduled = false
  private draining = false
  private closed = false

  constructor(
    readonly collection: string,
    private readonly host: FeedHost,
  ) {}

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
          for (const view of this.views) view.apply({ name: change.name, version, data })
        }
        for (const view of this.views) view.settle()
      }
    } finally {
      this.draining = false
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
