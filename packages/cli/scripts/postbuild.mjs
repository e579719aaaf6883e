// tsc does not set the executable bit; npm bin links and `./dist/bin.js` need it.
import { chmodSync } from 'node:fs'

chmodSync(new URL('../dist/bin.js', import.meta.url), 0o755)
