export { SqliteRecordStore, type SqliteRecordStoreOptions } from './sqlite-store.js'
