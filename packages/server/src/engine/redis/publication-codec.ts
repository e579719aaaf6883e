import type { PublisherInfo } from '@switchboard/protocol'
import type { Publication } from '../broker.js'

/** A publication's payload as stored and broadcast: JSON `[data]` or `[data, publisher]`. */
export function encodePayload(data: unknown, publisher: PublisherInfo | undefined): string {
  return JSON.stringify(publisher ? [data, publisher] : [data])
}

export function decodePayload(channel: string, offset: number, epoch: string, payload: string): Publication {
  const [data, publisher] = JSON.parse(payload) as [unknown, PublisherInfo?]
  const publication: Publication = { channel, data, offset, epoch }
  if (publisher) publication.publisher = publisher
  return publication
}

/** A broadcast message is `<offset> <epoch> <payload>` (epochs never contain spaces). */
export function decodeMessage(channel: string, message: string): Publication {
  const a = message.indexOf(' ')
  const b = message.indexOf(' ', a + 1)
  return decodePayload(channel, Number(message.slice(0, a)), message.slice(a + 1, b), message.slice(b + 1))
}
