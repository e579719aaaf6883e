import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeQueryableStoreContract, describeRecordStoreContract } from '@switchboard/storage/contract'
import { SqliteRecordStore } from '@switchboard/storage-sqlite'

describeRecordStoreContract(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-'))
    // A directory that does not exist yet: the store creates it, as the zero-config server needs.
    const path = join(dir, 'data', 'records.db')
    return {
      store: new SqliteRecordStore({ path }),
      reopen: async () => new SqliteRecordStore({ path }),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
  { persistent: true },
)

describeRecordStoreContract('sqlite :memory:', async () => ({
  store: new SqliteRecordStore({ path: ':memory:', table: 'other_name' }),
}))

describeQueryableStoreContract('sqlite', async () => ({
  store: new SqliteRecordStore({ path: ':memory:' }),
}))
