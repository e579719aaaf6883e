import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests run against the sources, so one package's type error never blocks another's tests;
    // `npm test` still type-checks everything through the build first.
    alias: {
      '@switchboard/protocol': src('protocol'),
      // The more specific entries first: '@switchboard/server' would also match their sub-paths.
      '@switchboard/server/contract': fileURLToPath(new URL('./packages/server/src/contract.ts', import.meta.url)),
      '@switchboard/server': src('server'),
      '@switchboard/storage/contract': fileURLToPath(
        new URL('./packages/storage/src/contract/index.ts', import.meta.url),
      ),
      '@switchboard/storage': src('storage'),
      '@switchboard/storage-sqlite': src('storage-sqlite'),
      '@switchboard/storage-postgres': src('storage-postgres'),
      // The Node entry, as Node users get it (injects `ws` on Node 20).
      '@switchboard/client': fileURLToPath(new URL('./packages/client/src/node.ts', import.meta.url)),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has 2 cores and is shared: modest parallelism keeps event-based waits honest.
    maxWorkers: 2,
  },
})
