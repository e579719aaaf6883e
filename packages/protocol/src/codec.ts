import type { ClientMessage, ServerMessage } from './messages.js'

/**
 * Turns messages into frames and back. JSON today; MessagePack fits behind the same shape
 * (frames are `string | Uint8Array`). `decode` only parses: validation is the receiver's job.
 */
export interface Codec {
  readonly name: string
  /** WebSocket frames carry text for JSON, binary for binary codecs. */
  readonly binary: boolean
  encode(message: ClientMessage | ServerMessage): string | Uint8Array
  /** Joins already-encoded messages into one frame (a batch), without re-encoding them. */
  batch(frames: readonly string[]): string
  /** Returns the parsed value (one message or an array of messages). Throws on malformed input. */
  decode(frame: string | Uint8Array): unknown
}

const textDecoder = /* @__PURE__ */ new TextDecoder()

export const jsonCodec: Codec = {
  name: 'json',
  binary: false,
  encode: (message) => JSON.stringify(message),
  batch: (frames) => (frames.length === 1 ? (frames[0] as string) : `[${frames.join(',')}]`),
  decode: (frame) => JSON.parse(typeof frame === 'string' ? frame : textDecoder.decode(frame)) as unknown,
}
