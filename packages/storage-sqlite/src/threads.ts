import { Worker } from 'node:worker_threads'

// Spelled out, not templated: bundlers (Vite, in the React tests) resolve only literal URLs.
const PROGRAMS = {
  writer: new URL('../threads/writer.mjs', import.meta.url),
  checkpointer: new URL('../threads/checkpointer.mjs', import.meta.url),
}

/**
 * Starts one of the package's thread programs (`threads/<name>.mjs`, beside `src/` and `dist/`,
 * so the sources and the build find it alike). It takes none of the host's flags: it runs a
 * fixed program, and some would stop it (`node --input-type=module -e …` passes `--input-type`
 * on, which a file cannot take).
 */
export function startThread(name: keyof typeof PROGRAMS, workerData: unknown): Worker {
  return new Worker(PROGRAMS[name], { workerData, execArgv: [] })
}

/**
 * Asks a thread to stop with `message` and waits until it has. Referenced meanwhile: an idle
 * thread is unreferenced, and a process with nothing else to do would otherwise exit before
 * the stop completes (a script ending on `await store.close()` exited with code 13).
 */
export async function stopThread(worker: Worker, message: unknown): Promise<void> {
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  worker.ref()
  worker.postMessage(message)
  await exited
}
