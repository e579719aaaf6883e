import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export type WebhookAnswer = { status: number; body?: unknown } | 'hang'

/**
 * A real auth webhook on a loopback port: `answer` decides per token; `calls` lists the tokens
 * it was asked about, in order. `close()` ends it.
 */
export async function startAuthWebhook(answer: (token: string) => WebhookAnswer): Promise<{
  url: string
  calls: string[]
  close(): Promise<void>
}> {
  const calls: string[] = []
  const http: Server = createServer((req, response) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      const { token } = JSON.parse(body) as { token: string }
      calls.push(token)
      const a = answer(token)
      if (a === 'hang') return
      response
        .writeHead(a.status, { 'content-type': 'application/json' })
        .end(a.body === undefined ? '' : JSON.stringify(a.body))
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/auth`,
    calls,
    close() {
      http.closeAllConnections()
      return new Promise((resolve) => http.close(() => resolve()))
    },
  }
}
