/**
 * - `UNAVAILABLE`: the backend could not be reached or failed (I/O, connection, disk full); retryable.
 * - `CLOSED`: the store was closed.
 * - `INVALID_DATA`: the backend cannot store this document (not JSON, or e.g. a NUL character in PostgreSQL).
 * - `INVALID_ARGUMENT`: a programming error: bad name or versions.
 */
export type StorageErrorCode = 'UNAVAILABLE' | 'CLOSED' | 'INVALID_DATA' | 'INVALID_ARGUMENT'

/** The one error type record stores reject with. */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }

  get retryable(): boolean {
    return this.code === 'UNAVAILABLE'
  }
}

/** Wraps anything a backend threw; StorageErrors pass through unchanged. */
export function toStorageError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err
  return new StorageError('UNAVAILABLE', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
}

/** Checks the arguments every store receives; throws INVALID_ARGUMENT. Returns the target version. */
export function checkWriteArgs(name: unknown, expectedVersion: unknown, newVersion: unknown): number {
  if (typeof name !== 'string' || name.length === 0)
    throw new StorageError('INVALID_ARGUMENT', 'a record name must be a non-empty string')
  if (!Number.isSafeInteger(expectedVersion) || (expectedVersion as number) < 0) {
    throw new StorageError('INVALID_ARGUMENT', `expectedVersion must be an integer ≥ 0, got ${String(expectedVersion)}`)
  }
  const next = newVersion === undefined ? (expectedVersion as number) + 1 : newVersion
  if (!Number.isSafeInteger(next) || (next as number) <= (expectedVersion as number)) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `newVersion must be an integer > expectedVersion, got ${String(newVersion)}`,
    )
  }
  return next as number
}

/** JSON text of a document, or INVALID_DATA. */
export function encodeDocument(data: unknown): string {
  if (data === undefined)
    throw new StorageError('INVALID_ARGUMENT', 'data is undefined (use delete to remove a record)')
  let text: string | undefined
  try {
    text = JSON.stringify(data)
  } catch (err) {
    throw new StorageError('INVALID_DATA', `data is not JSON-serialisable: ${(err as Error).message}`)
  }
  if (text === undefined) throw new StorageError('INVALID_DATA', 'data is not JSON-serialisable')
  return text
}
