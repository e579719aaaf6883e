export type { RecordStore, StoredRecord, WriteResult, StoreWrite } from './record-store.js'
export { StorageError, toStorageError, checkWriteArgs, encodeDocument, type StorageErrorCode } from './errors.js'
export { MemoryRecordStore } from './memory-store.js'
export { GroupCommit, type BatchCommit } from './group-commit.js'
