// Bundles the CJS build for require() users; the ESM build and .d.ts come from tsc.
// React and the client stay external: the app brings them (peer dependencies).
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('.', import.meta.url))

await build({
  bundle: true,
  sourcemap: true,
  target: 'es2020',
  absWorkingDir: dir,
  logLevel: 'warning',
  entryPoints: ['src/index.ts'],
  outfile: 'dist/cjs/index.cjs',
  format: 'cjs',
  platform: 'neutral',
  external: ['react', '@switchboard/client'],
})
