import type { Worker } from 'node:worker_threads'
import { StorageError, type StoredRecord, type StoreWrite, type WriteResult } from '@switchboard/storage'
import { startThread, stopThread } from './threads.js'

type RawResult = [1, number] | [0, number, string | null] | [0]

interface Waiter {
  resolve(results: WriteResult[]): void
  reject(error: StorageError): void
}

/**
 * The write connection in its own thread. Batches go over as arrays of plain values and come
 * back as compact result tuples; the thread is started on first use and again after a crash
 * (the batch in flight then fails with UNAVAILABLE; nothing of it was committed).
 */
export class WriterThread {
  private worker: Worker | undefined
  private started: Promise<Worker> | undefined
  private readonly waiting = new Map<number, Waiter>()
  private seq = 0

  constructor(private readonly config: { path: string; table: string; synchronous: 'FULL' | 'NORMAL' }) {}

  async commit(batch: readonly StoreWrite[]): Promise<WriteResult[]> {
    const worker = await this.start()
    const id = ++this.seq
    const rows = batch.map((w) => [
      w.name,
      w.data === undefined ? null : (w.data as string),
      w.expectedVersion,
      w.newVersion,
    ])
    return new Promise<WriteResult[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject })
      // Keeps the process alive only while a batch is being committed.
      worker.ref()
      worker.postMessage({ id, batch: rows })
    })
  }

  async close(): Promise<void> {
    const worker = this.worker ?? (this.started ? await this.started.catch(() => undefined) : undefined)
    this.worker = undefined
    this.started = undefined
    if (worker) await stopThread(worker, { close: true })
  }

  private start(): Promise<Worker> {
    if (this.started) return this.started
    // Referenced until it is ready: a commit waiting for the thread to start keeps the process
    // alive (a script whose only work is that commit would otherwise exit before it lands).
    // The program and its messages: threads/writer.mjs.
    const worker = startThread('writer', this.config)
    this.started = new Promise<Worker>((resolve, reject) => {
      worker.on('message', (m: { ready?: true; id?: number; results?: RawResult[]; error?: string }) => {
        if (m.ready) {
          this.worker = worker
          // Idle from here on: only a batch in flight keeps the process alive (`commit` refs it).
          worker.unref()
          resolve(worker)
          return
        }
        const waiter = this.waiting.get(m.id as number)
        if (!waiter) return
        this.waiting.delete(m.id as number)
        if (this.waiting.size === 0) worker.unref()
        if (m.error !== undefined) waiter.reject(new StorageError('UNAVAILABLE', `SQLite commit failed: ${m.error}`))
        else waiter.resolve((m.results as RawResult[]).map(toResult))
      })
      const lost = (why: string) => {
        if (this.worker === worker || !this.worker) {
          this.worker = undefined
          this.started = undefined
        }
        const error = new StorageError('UNAVAILABLE', `the SQLite writer stopped: ${why}`)
        reject(error)
        for (const w of this.waiting.values()) w.reject(error)
        this.waiting.clear()
      }
      worker.on('error', (err) => lost(err.message))
      worker.on('exit', (code) => lost(`exit code ${code}`))
    })
    return this.started
  }
}

function toResult(raw: RawResult): WriteResult {
  if (raw[0] === 1) return { ok: true, version: raw[1] }
  if (raw.length === 1) return { ok: false, current: null }
  const text = raw[2]
  const current: StoredRecord = { version: raw[1], data: text === null ? undefined : (JSON.parse(text) as unknown) }
  return { ok: false, current }
}
