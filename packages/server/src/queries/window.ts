import { compareSorted, type SortKey, type SortValues } from '@switchboard/protocol'

export interface WindowRow {
  readonly name: string
  readonly version: number
  readonly data: unknown
  /** The row's values at the orderBy paths, extracted once. */
  readonly values: SortValues
}

/** What a row looked like to subscribers before the current batch touched it. */
interface Before {
  visible: boolean
  version: number
}

/** The change subscribers see: names that left and rows that entered or changed, visible part only. */
export interface WindowDiff {
  removed: string[]
  upserted: WindowRow[]
}

/** Told when a record starts or stops being held (the collection feed routes its changes by it). */
export interface HoldListener {
  held(name: string): void
  released(name: string): void
}

/**
 * The first rows of a query's result, in query order: a prefix of the whole result kept in
 * memory, of at most `capacity` rows of which the first `visible` are what subscribers see (the
 * rest is slack, so a row leaving a full window is usually replaced without a storage read).
 *
 * Invariant: every matching row not held here sorts after the last row held, and when `more`
 * is false there is none. Callers keep that by inserting only through `offer` and by refilling
 * (storage reads after the last row) when `needsRefill`.
 *
 * Changes are tracked per batch: each touched row remembers whether subscribers saw it and at
 * which version, including rows pushed across the visible boundary by others, so `takeDiff`
 * yields exactly what changed for subscribers.
 */
export class SortedWindow {
  private readonly rows: WindowRow[] = []
  private readonly byName = new Map<string, WindowRow>()
  private readonly touched = new Map<string, Before>()
  /** Rows beyond the last one held may exist. */
  more = true
  /** Bumped by every insertion and removal: what was derived from the rows at one revision stays valid. */
  revision = 0

  constructor(
    private readonly orderBy: readonly SortKey[],
    readonly visible: number,
    readonly capacity: number,
    private readonly holds?: HoldListener,
  ) {}

  get size(): number {
    return this.rows.length
  }

  get(name: string): WindowRow | undefined {
    return this.byName.get(name)
  }

  /** The last row held (the cursor for refills). */
  get last(): WindowRow | undefined {
    return this.rows[this.rows.length - 1]
  }

  /** Too few rows for the visible part while more exist in storage. */
  get needsRefill(): boolean {
    return this.more && this.rows.length < this.visible
  }

  /** Names of every row held. */
  names(): IterableIterator<string> {
    return this.byName.keys()
  }

  /** What subscribers see now. */
  visibleRows(): WindowRow[] {
    return this.rows.slice(0, this.visible)
  }

  /**
   * A row that matches: kept if it falls inside the known prefix (evicting the last row when
   * over capacity), or appended when the prefix is complete and has room; otherwise it lies in
   * the unknown part and only sets `more`.
   */
  offer(row: WindowRow): void {
    const held = this.byName.get(row.name)
    if (held) {
      const i = this.indexOf(held)
      // The usual update: the row keeps its place, replaced without moving the others.
      if (this.fitsAt(i, row)) return this.replaceAt(i, row)
      // Moved: the record stays held (no release and hold again) unless it falls beyond.
      this.removeAt(i, false)
    }
    const last = this.last
    if (!last || this.compare(row, last) > 0) {
      if (this.more || this.rows.length >= this.capacity) {
        this.more = true
        if (held) this.holds?.released(row.name)
        return
      }
      this.insertAt(this.rows.length, row, !held)
      return
    }
    this.insertAt(this.position(row), row, !held)
    if (this.rows.length > this.capacity) {
      this.removeAt(this.rows.length - 1)
      this.more = true
    }
  }

  /** Appends rows read from storage after the last row (in query order). */
  append(row: WindowRow): void {
    const held = this.byName.get(row.name)
    if (held) this.remove(held.name)
    this.insertAt(this.rows.length, row)
  }

  remove(name: string): boolean {
    const row = this.byName.get(name)
    if (!row) return false
    this.removeAt(this.indexOf(row))
    return true
  }

  /** The subscribers' change since the last call. */
  takeDiff(): WindowDiff {
    const diff: WindowDiff = { removed: [], upserted: [] }
    for (const [name, before] of this.touched) {
      const row = this.byName.get(name)
      const visible = row !== undefined && this.indexOf(row) < this.visible
      if (visible && (!before.visible || before.version !== row.version)) diff.upserted.push(row)
      else if (!visible && before.visible) diff.removed.push(name)
    }
    this.touched.clear()
    return diff
  }

  /** Forgets what the batch touched, without working out a diff nobody will receive. */
  forgetDiff(): void {
    this.touched.clear()
  }

  get changed(): boolean {
    return this.touched.size > 0
  }

  /** Whether `row` sorts between the neighbours of position `i` (held rows only). */
  private fitsAt(i: number, row: WindowRow): boolean {
    const before = this.rows[i - 1]
    const after = this.rows[i + 1]
    if (before && this.compare(before, row) >= 0) return false
    if (after) return this.compare(row, after) < 0
    // The last row held: past it lies the unknown part while `more`, so the row must not sort later.
    return !this.more || this.compare(row, this.rows[i] as WindowRow) <= 0
  }

  private replaceAt(i: number, row: WindowRow): void {
    this.touch(row.name)
    this.rows[i] = row
    this.byName.set(row.name, row)
    this.revision++
  }

  /** `notify`: tell the hold listener (not when a held row only moves). */
  private insertAt(i: number, row: WindowRow, notify = true): void {
    this.touch(row.name)
    // The row at the visible edge is pushed out of sight.
    if (i < this.visible) {
      const edge = this.rows[this.visible - 1]
      if (edge) this.touch(edge.name)
    }
    this.rows.splice(i, 0, row)
    this.byName.set(row.name, row)
    this.revision++
    if (notify) this.holds?.held(row.name)
  }

  private removeAt(i: number, notify = true): void {
    const row = this.rows[i] as WindowRow
    this.touch(row.name)
    // The first row beyond the visible edge comes into sight.
    if (i < this.visible) {
      const next = this.rows[this.visible]
      if (next) this.touch(next.name)
    }
    this.rows.splice(i, 1)
    this.byName.delete(row.name)
    this.revision++
    if (notify) this.holds?.released(row.name)
  }

  /** Remembers a row's state as subscribers last saw it, the first time a batch touches it. */
  private touch(name: string): void {
    if (this.touched.has(name)) return
    const row = this.byName.get(name)
    this.touched.set(
      name,
      row ? { visible: this.indexOf(row) < this.visible, version: row.version } : { visible: false, version: -1 },
    )
  }

  private compare(a: WindowRow, b: WindowRow): number {
    return compareSorted(this.orderBy, a.values, a.name, b.values, b.name)
  }

  /** Where a row not held belongs (binary search). */
  private position(row: WindowRow): number {
    let lo = 0
    let hi = this.rows.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.compare(this.rows[mid] as WindowRow, row) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Index of a row held (binary search on its own sort position). */
  private indexOf(row: WindowRow): number {
    return this.position(row)
  }
}
