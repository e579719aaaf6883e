import { describeOccupancyContract } from '../contract/occupancy.contract.js'
import { OccupancyTable } from './memory-occupancy.js'

describeOccupancyContract('memory', {
  nodes: async (count) => {
    const table = new OccupancyTable()
    return Array.from({ length: count }, () => table.node())
  },
})
