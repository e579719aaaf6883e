import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeRecordStoreContract } from '@switchboard/storage/contract'
import { SqliteRecordStore } from '@switchboard/storage-sqlite'
import { waitFor } from '../../../tests/support/wait.js'

// The default (synchronous: normal) runs in contract.test.ts; this is the fsync-per-commit mode.
describeRecordStoreContract(
  'sqlite synchronous=full (writer thread)',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-full-'))
    const path = join(dir, 'records.db')
    return {
      store: new SqliteRecordStore({ path, synchronous: 'full' }),
      reopen: async () => new SqliteRecordStore({ path, synchronous: 'full' }),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    }
  },
  { persistent: true },
)

describe('the checkpointer (synchronous=normal)', () => {
  it('moves committed pages from the log into the database file in the background', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-sqlite-ckpt-'))
    const path = join(dir, 'records.db')
    const store = new SqliteRecordStore({ path })
    try {
      const before = statSync(path).size
      await Promise.all(Array.from({ length: 2000 }, (_, i) => store.write(`c/${i}`, { i, pad: 'x'.repeat(200) }, 0)))
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(100_000)
      await waitFor(() => statSync(path).size > before + 100_000, 'the database file to receive the pages', 10_000)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
