import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SwitchboardConfigInput } from '@switchboard/server'
import { scratchSchema } from './postgres.js'

export type StorageConfig = NonNullable<SwitchboardConfigInput['storage']>

export interface StorageKind {
  name: 'memory' | 'sqlite' | 'postgres'
  /** A fresh, empty storage for one test, and how to remove it afterwards. */
  create(): Promise<{ storage: StorageConfig; remove(): Promise<void> }>
}

/** Every record store a server can be configured with; record suites run against each. */
export const storageKinds: StorageKind[] = [
  { name: 'memory', create: async () => ({ storage: { type: 'memory' }, remove: async () => {} }) },
  {
    name: 'sqlite',
    create: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sb-records-'))
      return {
        storage: { type: 'sqlite', path: join(dir, 'records.db') },
        remove: async () => rmSync(dir, { recursive: true, force: true }),
      }
    },
  },
  {
    name: 'postgres',
    create: async () => {
      const schema = await scratchSchema('sb_records')
      return { storage: { type: 'postgres', url: schema.url }, remove: () => schema.drop() }
    },
  },
]
