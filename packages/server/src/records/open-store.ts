import type { RecordStore } from '@switchboard/storage'
import { MemoryRecordStore } from '@switchboard/storage'
import { SqliteRecordStore } from '@switchboard/storage-sqlite'
import type { SwitchboardConfig } from '../config/types.js'

/**
 * Opens the configured record store. SQLite (the zero-config default) creates its directory;
 * the PostgreSQL package is loaded only when configured.
 */
export async function openRecordStore(config: SwitchboardConfig['storage']): Promise<RecordStore> {
  switch (config.type) {
    case 'memory':
      return new MemoryRecordStore()
    case 'sqlite':
      return new SqliteRecordStore({ path: config.path, synchronous: config.synchronous })
    case 'postgres': {
      const { PostgresRecordStore } = await import('@switchboard/storage-postgres')
      return PostgresRecordStore.open({ url: config.url })
    }
  }
}
