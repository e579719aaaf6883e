import { describeQueryableStoreContract, describeRecordStoreContract } from './contract/index.js'
import { MemoryRecordStore } from './memory-store.js'

describeRecordStoreContract('memory', async () => ({ store: new MemoryRecordStore() }))
describeQueryableStoreContract('memory', async () => ({ store: new MemoryRecordStore() }))
