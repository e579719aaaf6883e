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

// Shared with the config schema (validate.ts), so a string the schema accepts always parses here.
/** A size string: number, optional unit from SIZE_UNITS (case-insensitive). */
export const SIZE_PATTERN = String.raw`^\s*(\d+(?:\.\d+)?)\s*([bB]|[kKmMgG][iI]?[bB])?\s*$`
/** A duration string: number, optional unit from DURATION_UNITS (milliseconds when omitted). */
export const DURATION_PATTERN = String.raw`^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$`
const SIZE_RE = new RegExp(SIZE_PATTERN)
const DURATION_RE = new RegExp(DURATION_PATTERN)

/** `1MiB` → 1048576. Throws a message fit for a config error. */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
  } else if (typeof value === 'string') {
    const m = SIZE_RE.exec(value)
    if (m) return Math.floor(Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] as number))
  }
  throw new Error(`invalid size ${JSON.stringify(value)} (use bytes or units like 512KiB, 1MiB, 4MB)`)
}

/** `10m` → 600000. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value)
  } else if (typeof value === 'string') {
    const m = DURATION_RE.exec(value)
    if (m) return Math.floor(Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] as number))
  }
  throw new Error(`invalid duration ${JSON.stringify(value)} (use milliseconds or units like 500ms, 10s, 10m, 1h)`)
}
