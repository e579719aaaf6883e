/** The transports a client can use, in the default order of preference. */
export type TransportName = 'websocket' | 'sse' | 'longpoll'
