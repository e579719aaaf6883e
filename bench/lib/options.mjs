// `--name value`, `--name=value` and bare `--flag` on top of defaults; the type of each default
// decides how its value is read. Unknown options are an error, not silently ignored.
export function parseOptions(defaults, argv = process.argv.slice(2)) {
  const opts = { ...defaults }
  for (let i = 0; i < argv.length; i++) {
    const [k, v] = argv[i].slice(2).split('=', 2)
    if (!(k in opts)) throw new Error(`unknown option --${k}`)
    if (typeof opts[k] === 'boolean') opts[k] = v === undefined ? true : v !== 'false'
    else opts[k] = typeof opts[k] === 'number' ? Number(v ?? argv[++i]) : (v ?? argv[++i])
  }
  return opts
}
