// Removes what a bench left in a shared Redis under its own key prefix (the engine's `prefix`),
// once its nodes have stopped: the machine's Redis is also the one the tests use.
import { createClient } from 'redis'

/** Deletes every key under `prefix`; returns how many. Failures are reported, not thrown. */
export async function dropKeys(url, prefix) {
  const client = createClient({ url })
  client.on('error', () => {}) // reported below through the failed call
  let dropped = 0
  try {
    await client.connect()
    let batch = []
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      batch.push(...(Array.isArray(keys) ? keys : [keys]))
      if (batch.length >= 500) {
        dropped += await client.unlink(batch)
        batch = []
      }
    }
    if (batch.length > 0) dropped += await client.unlink(batch)
  } catch (err) {
    console.error(`could not remove the keys under ${prefix} from ${url}: ${err.message}`)
  } finally {
    await client.quit().catch(() => {})
  }
  return dropped
}
