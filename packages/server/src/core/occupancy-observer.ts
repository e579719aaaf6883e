import type { OccupancyKind } from '../engine/occupancy.js'

/**
 * What channels and records report about their local subscribers: a name gained its first
 * subscriber on this node, or lost its last one. Pattern subscriptions do not occupy names.
 */
export interface OccupancyObserver {
  occupied(kind: OccupancyKind, name: string): void
  vacated(kind: OccupancyKind, name: string): void
}

/** For services built without one (unit tests). */
export const ignoreOccupancy: OccupancyObserver = { occupied: () => {}, vacated: () => {} }
