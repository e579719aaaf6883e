import { describeNodeBusContract } from '../contract/node-bus.contract.js'
import { MemoryHub } from './memory-hub.js'

const hub = new MemoryHub()
describeNodeBusContract('memory hub', { create: async (nodeId) => hub.bus(nodeId) })
