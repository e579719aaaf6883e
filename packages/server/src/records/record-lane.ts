import type { WriteResult } from '@switchboard/storage'
import { SwitchboardError, toSwitchboardError } from '../errors.js'
import type { PlannedWrite, RecordState, WriteRequest } from './write-plan.js'

/**
 * Cluster: whether another node already committed this write (its id), looked up while the
 * write waits in the lane. The lane does not apply a write before its answer is in.
 */
export interface PriorCommit {
  done: boolean
  /** The version it committed as elsewhere; undefined = not committed anywhere. */
  version: number | undefined
  /** The lookup failed (engine unreachable): the write fails instead of risking a second application. */
  failed: boolean
  readonly settled: Promise<void>
}

export function priorCommit(lookup: Promise<number | undefined>): PriorCommit {
  const prior = { done: false, version: undefined, failed: false } as Omit<PriorCommit, 'settled'>
  const settled = lookup.then(
    (version) => {
      prior.version = version
      prior.done = true
    },
    () => {
      prior.failed = true
      prior.done = true
    },
  )
  return Object.assign(prior, { settled })
}

/**
 * A write waiting in a lane; exactly one of `committed`, `duplicate` and `failed` is called,
 * once, synchronously.
 */
export interface WriteJob {
  kind: 'write'
  req: WriteRequest
  committed(version: number, planned: PlannedWrite): void
  failed(error: SwitchboardError): void
  prior?: PriorCommit | undefined
  /** Another node had committed this very write already, as `version`. */
  duplicate?(version: number): void
  attempts?: number
  /** Commit alone: its batch was refused by the store, so each write is retried by itself. */
  solo?: boolean
}

/** A read that must see every write queued before it: runs synchronously on the committed state. */
export interface ReadJob {
  kind: 'read'
  /**
   * Waited for before the read (and the jobs behind it) runs; the state is then reloaded. A
   * first subscriber's change stream starts listening here, so the snapshot it reads is at least
   * as new as the first change it can miss.
   */
  before?: Promise<void> | undefined
  run(state: RecordState): void
  failed(error: SwitchboardError): void
}

export type LaneJob = WriteJob | ReadJob

/** What a lane needs from the record service. */
export interface LaneHost {
  load(name: string): Promise<RecordState>
  plan(state: RecordState, req: WriteRequest): PlannedWrite
  /** Compare-and-set of the batch's end state against the state it started from. */
  commit(name: string, base: RecordState, next: RecordState): Promise<WriteResult>
  /** Called after a lane finished its queue, so the service can drop lanes nobody needs. */
  idle(lane: RecordLane): void
  /** Storage failures, for the log. */
  storageFailed(name: string, err: unknown): void
}

/** Writes of one batch, and how often a batch may meet another writer's change before giving up. */
const MAX_BATCH = 500
const MAX_ATTEMPTS = 10

/**
 * One record's queue. Jobs run strictly in arrival order. Consecutive writes are applied in
 * memory one after the other and committed together as one compare-and-set of the end state
 * (the store's group commit then batches lanes together): a hot record costs one storage write
 * per batch, not per write. Acks and change notifications go out in version order once the
 * batch is committed. If the compare-and-set meets a change made elsewhere (another node),
 * the lane reloads and re-applies the batch (writes with ifVersion then fail honestly).
 */
export class RecordLane {
  /** The last committed state, while known (reloaded when unknown). */
  state: RecordState | undefined
  /**
   * Whether `state` is known to be current: loaded, committed by this lane, or kept current by
   * change notifications. An unverified state (kept from an earlier burst) may serve as the base
   * of a compare-and-set, but reads reload first.
   */
  verified = false
  /** The highest version other nodes' change notifications reported. */
  private observed = 0
  private readonly jobs: LaneJob[] = []
  private running = false

  constructor(
    readonly name: string,
    private readonly host: LaneHost,
  ) {}

  get busy(): boolean {
    return this.running || this.jobs.length > 0
  }

  /** A change notification (possibly another node's): a newer version makes the state unverified. */
  observe(version: number): void {
    if (version > this.observed) this.observed = version
    if (this.state && version > this.state.version) this.verified = false
  }

  push(job: LaneJob): void {
    this.jobs.push(job)
    if (!this.running) void this.drain()
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (this.jobs.length > 0) {
        const first = this.jobs[0] as LaneJob
        if (first.kind === 'read' && first.before) {
          const before = first.before
          first.before = undefined
          try {
            await before
          } catch (err) {
            this.jobs.shift()
            first.failed(toSwitchboardError(err))
            continue
          }
          // Changes made elsewhere before the listening began were never observed here.
          this.verified = false
          continue
        }
        if (first.kind === 'write' && first.prior && !first.prior.done) {
          await first.prior.settled
          continue
        }
        const state = this.state ?? (await this.loadOrFail())
        if (!state) continue
        const head = this.jobs[0] as LaneJob
        if (head.kind === 'read') {
          if (!this.verified) {
            this.state = undefined
            continue
          }
          this.jobs.shift()
          head.run(state)
        } else {
          await this.commitBatch(state)
        }
      }
    } finally {
      this.running = false
      this.host.idle(this)
    }
  }

  private async loadOrFail(): Promise<RecordState | undefined> {
    try {
      const state = (this.state = await this.host.load(this.name))
      this.verified = this.observed <= state.version
      return state
    } catch (err) {
      this.host.storageFailed(this.name, err)
      const error = storageFailure(err)
      for (const job of this.jobs.splice(0)) job.failed(error)
      return undefined
    }
  }

  private async commitBatch(base: RecordState): Promise<void> {
    const batch: { job: WriteJob; planned: PlannedWrite }[] = []
    let state = base
    while (batch.length < MAX_BATCH && this.jobs[0]?.kind === 'write') {
      const next = this.jobs[0] as WriteJob
      if (batch.length > 0 && next.solo) break
      // Its lookup is still out: the drain loop waits for it before going on.
      if (next.prior && !next.prior.done) break
      this.jobs.shift()
      if (next.prior?.failed) {
        next.failed(new SwitchboardError('UNAVAILABLE', 'the cluster engine is unreachable; try again'))
        continue
      }
      if (next.prior?.version !== undefined && next.duplicate) {
        next.duplicate(next.prior.version)
        continue
      }
      const job = next
      const alone = job.solo === true
      try {
        const planned = this.host.plan(state, job.req)
        batch.push({ job, planned })
        state = planned.state
      } catch (err) {
        job.failed(toSwitchboardError(err))
      }
      if (alone) break
    }
    if (state !== base) {
      let result: WriteResult
      try {
        result = await this.host.commit(this.name, base, state)
      } catch (err) {
        this.state = undefined
        const error = storageFailure(err)
        if (error.code === 'INVALID_DATA' && batch.length > 1) {
          // One document the store cannot hold must not take its batch-mates down with it.
          for (const { job } of batch) job.solo = true
          this.jobs.unshift(...batch.map((b) => b.job))
          return
        }
        this.host.storageFailed(this.name, err)
        for (const { job } of batch) job.failed(error)
        return
      }
      if (!result.ok) {
        // Someone else wrote this record: start over from what is stored now.
        this.state = undefined
        const retry = batch.filter(({ job }) => {
          job.attempts = (job.attempts ?? 0) + 1
          if (job.attempts <= MAX_ATTEMPTS) return true
          job.failed(new SwitchboardError('UNAVAILABLE', `${this.name} is changing too fast; try again`))
          return false
        })
        this.jobs.unshift(...retry.map((b) => b.job))
        return
      }
      this.state = state
      // Unless a notification already told of a newer version (committed after ours).
      this.verified = this.observed <= state.version
    }
    for (const { job, planned } of batch) job.committed(planned.state.version, planned)
  }
}

function storageFailure(err: unknown): SwitchboardError {
  if (err instanceof SwitchboardError) return err
  const code = (err as { code?: unknown } | null)?.code
  if (code === 'INVALID_DATA') return new SwitchboardError('INVALID_DATA', (err as Error).message)
  return new SwitchboardError('UNAVAILABLE', 'record storage is unavailable; try again')
}
