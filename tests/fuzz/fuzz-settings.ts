/**
 * Fuzz runs are seeded and bounded so CI repeats them exactly and quickly. For a longer hunt:
 * `FUZZ_RUNS=5000 FUZZ_SEED=$RANDOM npx vitest run tests/fuzz`; a failure prints its seed and
 * path, which `FUZZ_SEED` (and fast-check's `path`) replay.
 */
export function fuzzRuns(ciRuns: number): { seed: number; numRuns: number } {
  const seed = process.env.FUZZ_SEED === undefined ? 20261201 : Number(process.env.FUZZ_SEED)
  const numRuns = process.env.FUZZ_RUNS === undefined ? ciRuns : Number(process.env.FUZZ_RUNS)
  return { seed, numRuns }
}
