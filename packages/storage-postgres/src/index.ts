export { PostgresRecordStore, type PostgresRecordStoreOptions } from './postgres-store.js'
