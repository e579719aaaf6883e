import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

/**
 * The client suites that run once more over each fallback transport (SPEC §5: every client
 * feature works on every transport). tests/support/server.ts reads the variable.
 */
const CLIENT_SUITES = [
  'channels',
  'recovery',
  'records',
  'records-reconnect',
  'rpc',
  'presence',
  'auth',
  'queries',
  'listening',
].map((name) => `tests/integration/${name}.test.ts`)

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
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // The machine has 2 cores and is shared: modest parallelism keeps event-based waits honest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'default',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
        },
      },
      ...(['sse', 'longpoll'] as const).map((transport) => ({
        extends: true,
        test: { name: transport, include: CLIENT_SUITES, env: { SWITCHBOARD_TEST_TRANSPORT: transport } },
      })),
    ],
  },
})
