// Builds the pages the server serves: the demo (GET /) and the admin view (GET /admin), React
// apps written with @switchboard/react, into dist/web/ (an HTML page each, hashed assets under
// assets/). Run after the packages' own builds (it bundles their dist/).
import { build } from 'esbuild'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = path.join(root, 'dist', 'web')
rmSync(out, { recursive: true, force: true })
mkdirSync(path.join(out, 'assets'), { recursive: true })

const pages = {
  demo: { title: 'Switchboard demo' },
  admin: { title: 'Switchboard admin' },
}

const result = await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(Object.keys(pages).map((name) => [name, `web/${name}/main.tsx`])),
  outdir: path.join(out, 'assets'),
  entryNames: '[name]-[hash]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  jsx: 'automatic',
  minify: true,
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
})

// One HTML page per app, naming its hashed script and stylesheet (no inline script: the CSP
// allows scripts and styles from this origin only).
for (const [name, { title }] of Object.entries(pages)) {
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === `web/${name}/main.tsx`)
  if (!entry) throw new Error(`no output for ${name}`)
  const [file, output] = entry
  const script = `/assets/${path.basename(file)}`
  const css = output.cssBundle
    ? `\n    <link rel="stylesheet" href="/assets/${path.basename(output.cssBundle)}" />`
    : ''
  writeFileSync(
    path.join(out, `${name}.html`),
    `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${title}</title>
    <link rel="icon" href="data:," />${css}
    <script type="module" src="${script}"></script>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
`,
  )
}
