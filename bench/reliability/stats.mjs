// Small helpers shared by the reliability scripts.

/** The q-quantile (0..1) of a list of numbers (sorted copy). */
export function quantile(values, q) {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

export const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits

/** Least-squares slope of y over x. */
export function slope(xs, ys) {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
export function within(promise, ms, what) {
  let t
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(t))
}
