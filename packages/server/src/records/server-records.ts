import type { RecordDocument, RecordMutation, UpdateOps } from '@switchboard/protocol'
import { SwitchboardError } from '../errors.js'
import type { RecordService } from './record-service.js'
import { checkMutation, type MutationLimits, type WriteRequest } from './write-plan.js'

export interface RecordWriteOptions {
  /** Fail with VERSION_CONFLICT unless the record is at this version. */
  ifVersion?: number
}

/**
 * Records for the embedding app (`server.records`). Writes go through the same lanes as
 * client writes (same ordering, versions, schema checks, commit before ack, and subscribers
 * are notified the same way); permission rules do not apply: the app is trusted.
 */
export interface ServerRecords {
  /** The record, or null when it does not exist. */
  get(name: string): Promise<{ data: RecordDocument; version: number } | null>
  set(name: string, data: RecordDocument, options?: RecordWriteOptions): Promise<{ version: number }>
  set(name: string, path: string, value: unknown, options?: RecordWriteOptions): Promise<{ version: number }>
  update(name: string, ops: UpdateOps, options?: RecordWriteOptions): Promise<{ version: number }>
  delete(name: string, options?: RecordWriteOptions): Promise<{ version: number }>
}

export function serverRecords(records: RecordService, limits: MutationLimits): ServerRecords {
  // The mutation is built inside the executor, so a bad argument rejects instead of throwing.
  const write = (
    name: string,
    build: () => RecordMutation,
    options: RecordWriteOptions = {},
  ): Promise<{ version: number }> =>
    new Promise((resolve, reject) => {
      const mutation = build()
      checkMutation(mutation, limits)
      const req: WriteRequest = { name, mutation, user: null, trusted: true }
      if (options.ifVersion !== undefined) req.ifVersion = options.ifVersion
      records.write(req, (outcome) => (outcome.ok ? resolve({ version: outcome.version }) : reject(outcome.error)))
    })

  return {
    async get(name) {
      const s = await records.read(name, null, true)
      return s.data === undefined ? null : { data: s.data as RecordDocument, version: s.version }
    },
    set(
      name: string,
      dataOrPath: RecordDocument | string,
      valueOrOptions?: unknown,
      maybeOptions?: RecordWriteOptions,
    ) {
      if (typeof dataOrPath === 'string') {
        return write(name, () => ({ kind: 'set', path: dataOrPath, value: toJson(valueOrOptions) }), maybeOptions)
      }
      return write(
        name,
        () => ({ kind: 'set', value: toJson(dataOrPath) }),
        valueOrOptions as RecordWriteOptions | undefined,
      )
    },
    update: (name, ops, options) => write(name, () => ({ kind: 'update', ops: toJson(ops) as UpdateOps }), options),
    delete: (name, options) => write(name, () => ({ kind: 'delete' }), options),
  }
}

/** What a client would have sent: JSON only (Dates become strings, undefined keys vanish). */
function toJson(value: unknown): unknown {
  try {
    const text = JSON.stringify(value)
    return text === undefined ? undefined : (JSON.parse(text) as unknown)
  } catch (err) {
    throw new SwitchboardError('INVALID_DATA', `not JSON-serialisable: ${(err as Error).message}`)
  }
}
