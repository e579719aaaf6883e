import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { describeQueryableStoreContract, describeRecordStoreContract } from '@switchboard/storage/contract'
import { StorageError } from '@switchboard/storage'
import { PostgresRecordStore } from '@switchboard/storage-postgres'
import { scratchSchema, type ScratchSchema } from '../../../tests/support/postgres.js'

let schema: ScratchSchema
let tables = 0
beforeAll(async () => {
  schema = await scratchSchema()
})
afterAll(() => schema?.drop())

describeRecordStoreContract(
  'postgres',
  async () => {
    const table = `${schema.name}.records_${++tables}`
    return {
      store: await PostgresRecordStore.open({ url: schema.url, table }),
      reopen: () => PostgresRecordStore.open({ url: schema.url, table }),
    }
  },
  { persistent: true },
)

describeQueryableStoreContract('postgres', async () => ({
  store: await PostgresRecordStore.open({ url: schema.url, table: `${schema.name}.query_${++tables}` }),
}))

describe('PostgresRecordStore specifics', () => {
  it('several nodes can open one new table at the same moment', async () => {
    // Plain CREATE TABLE IF NOT EXISTS races here ("type … already exists"); creation is locked.
    for (let round = 0; round < 8; round++) {
      const table = `${schema.name}.race_${round}`
      const stores = await Promise.all(
        Array.from({ length: 16 }, () => PostgresRecordStore.open({ url: schema.url, table })),
      )
      await stores[0]!.write('x', { round }, 0)
      expect((await stores[15]!.get('x'))?.data).toEqual({ round })
      await Promise.all(stores.map((s) => s.close()))
    }
  })

  it('uses the search_path of the URL for an unqualified table', async () => {
    const store = await PostgresRecordStore.open({ url: schema.url })
    try {
      await store.write('x', { a: 1 }, 0)
      const again = await PostgresRecordStore.open({ url: schema.url, table: `${schema.name}.switchboard_records` })
      expect(await again.get('x')).toEqual({ version: 1, data: { a: 1 } })
      await again.close()
    } finally {
      await store.close()
    }
  })

  it('refuses U+0000, which JSONB cannot hold, without failing the writes batched with it', async () => {
    const store = await PostgresRecordStore.open({ url: schema.url, table: `${schema.name}.nul_test` })
    try {
      const [bad, good] = await Promise.allSettled([
        store.write('a', { s: 'x\u0000y' }, 0),
        store.write('b', { s: 'a\\u0000 is fine as text' }, 0),
      ])
      expect(bad.status === 'rejected' && (bad.reason as StorageError).code).toBe('INVALID_DATA')
      expect(good).toEqual({ status: 'fulfilled', value: { ok: true, version: 1 } })
    } finally {
      await store.close()
    }
  })

  it('an unreachable server rejects open with UNAVAILABLE', async () => {
    const err = await PostgresRecordStore.open({ url: 'postgres://nobody@127.0.0.1:1/none' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StorageError)
    expect((err as StorageError).code).toBe('UNAVAILABLE')
  })
})
