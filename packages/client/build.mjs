// Bundles the client: CJS for require() users and a minified browser IIFE (global `Switchboard`).
// The ESM build and .d.ts come from tsc. @switchboard/protocol is inlined; `ws` and `eventsource`
// stay external.
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))
const common = { bundle: true, sourcemap: true, target: 'es2020', absWorkingDir: dir, logLevel: 'warning' }

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/index.ts'],
    outfile: 'dist/cjs/index.cjs',
    format: 'cjs',
    platform: 'neutral',
  }),
  build({
    ...common,
    entryPoints: ['src/node.ts'],
    outfile: 'dist/cjs/node.cjs',
    format: 'cjs',
    platform: 'node',
    external: ['ws', 'eventsource'],
  }),
  build({
    ...common,
    entryPoints: ['src/index.ts'],
    outfile: 'dist/browser/switchboard.min.js',
    format: 'iife',
    globalName: 'Switchboard',
    platform: 'browser',
    minify: true,
    // The map is announced by the server's SourceMap header instead of a trailing comment.
    sourcemap: 'external',
    // Size (SPEC: under 16 KiB gzipped): browsers from 2021 on run ES2022 as is (no helpers for
    // `??=` or class fields), and fields set in constructors need no separate declarations (the
    // code never relies on [[Define]] semantics).
    target: 'es2022',
    tsconfigRaw: { compilerOptions: { useDefineForClassFields: false } },
  }),
])
