const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
}
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `1MiB` → 1048576. Throws a message fit for a config error. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value)
    const unit = SIZE_UNITS[(m?.[2] || 'b').toLowerCase()]
    if (m && unit !== undefined) return Math.floor(Number(m[1]) * unit)
  }
  throw new Error(`invalid size ${JSON.stringify(value)} (use bytes or units like 512KiB, 1MiB, 4MB)`)
}

/** `10m` → 600000. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value)
    if (m) return Math.floor(Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] as number))
  }
  throw new Error(`invalid duration ${JSON.stringify(value)} (use milliseconds or units like 500ms, 10s, 10m, 1h)`)
}
