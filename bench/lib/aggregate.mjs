// Medians over repeated runs of one server/scenario (bench/run.mjs, bench/records/run.mjs).

export const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y)
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2
}

/** Several runs of one server/scenario → the median of every numeric field; all runs kept. */
export function aggregate(list) {
  if (list.length === 1) return list[0]
  const ok = list.filter((r) => !r.error && !r.pending)
  if (ok.length === 0) return list[0]
  const out = { ...ok[0] }
  for (const [k, v] of Object.entries(ok[0])) {
    if (typeof v === 'number' && ok.every((r) => typeof r[k] === 'number')) out[k] = median(ok.map((r) => r[k]))
    else if (Array.isArray(v) && v.every((x) => typeof x === 'number'))
      out[k] = v.map((_, i) => median(ok.map((r) => r[k]?.[i] ?? NaN)))
  }
  return { ...out, aggregate: `median of ${ok.length} runs`, failedRuns: list.length - ok.length, runs: list }
}
