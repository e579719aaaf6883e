import { describeTransportContract } from '../transport.contract.js'
import { createMemoryTransport } from './memory-transport.js'

describeTransportContract(
  'memory',
  {
    async connect(accept, events) {
      const { transport, peer } = createMemoryTransport()
      transport.sink = accept(transport)
      peer.onFrame = (text) => {
        const value = JSON.parse(text) as { t: string; d: unknown } | { t: string; d: unknown }[]
        for (const m of Array.isArray(value) ? value : [value]) if (m.t === 'msg') events.message(m.d)
      }
      peer.onClose = (code) => events.closed(code)
      return {
        transport,
        peer: { send: (text) => peer.send(text), close: () => peer.close(1000, 'peer leaves') },
        // Nothing outlives the microtasks that deliver frames and closes.
        dispose: () => new Promise((resolve) => setImmediate(resolve)),
      }
    },
  },
  { inbound: true, backpressure: false },
)
