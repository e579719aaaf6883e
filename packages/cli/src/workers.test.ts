import cluster from 'node:cluster'
import { describe, expect, it } from 'vitest'
import { schedulingPolicy } from './workers.js'

describe('schedulingPolicy', () => {
  it('lets every worker accept its connections itself by default', () => {
    expect(schedulingPolicy({})).toBe(cluster.SCHED_NONE)
    expect(schedulingPolicy({ NODE_CLUSTER_SCHED_POLICY: 'none' })).toBe(cluster.SCHED_NONE)
  })

  it("keeps node:cluster's round-robin when the operator asks for it", () => {
    expect(schedulingPolicy({ NODE_CLUSTER_SCHED_POLICY: 'rr' })).toBe(cluster.SCHED_RR)
  })
})
