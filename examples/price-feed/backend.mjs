// The app's backend, as far as hooks go: receives occupancy and connection events, checks the
// signature (HMAC-SHA256 of "timestamp.body" with the shared secret) and the timestamp.
import { createServer } from 'node:http'
import { HOOK_SIGNATURE_HEADER, HOOK_TIMESTAMP_HEADER, verifyHookSignature } from '@switchboard/server'

/** Starts the receiver on a free loopback port; `onEvent` hears every verified event. */
export async function startBackend(secret, onEvent = (e) => console.log('hook:', e.type, e.name ?? e.client)) {
  const http = createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks).toString('utf8')
    const genuine = verifyHookSignature({
      secret,
      body,
      timestamp: req.headers[HOOK_TIMESTAMP_HEADER],
      signature: req.headers[HOOK_SIGNATURE_HEADER],
    })
    if (!genuine) return res.writeHead(401).end()
    // Answer first: the server retries whatever is not acknowledged with a 2xx.
    res.writeHead(204).end()
    for (const event of JSON.parse(body).events) onEvent(event)
  })
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${http.address().port}/hooks`,
    close: () => new Promise((resolve) => http.close(() => resolve())),
  }
}
