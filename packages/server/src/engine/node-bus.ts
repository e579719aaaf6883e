/** A message one node addressed to another. */
export interface NodeMessage {
  /** The sending node's id. */
  readonly from: string
  /** What it is about, e.g. 'rpc' or 'relay': the receiving side routes on it. */
  readonly topic: string
  /** JSON-serialisable. */
  readonly payload: unknown
}

/** Callbacks a bus makes into core. The bus never imports the server. */
export interface NodeBusHandler {
  onNodeMessage(message: NodeMessage): void
}

/**
 * Node-addressed messages between the nodes of a cluster: RPC across nodes, and the fallback
 * transports' relay of `/send` and `/poll` to the node that holds a session.
 *
 * Invariants (checked by the conformance suite in contract/node-bus.contract.ts):
 * - `nodeId` is unique among the nodes on one engine and stable for the bus's life.
 * - A message `send` resolved `true` for reaches the addressed node's `onNodeMessage` exactly
 *   once; `false` means no node with that id is listening (gone, or never was) and nothing is
 *   delivered. Delivery is never synchronous inside `send`.
 * - Messages from one node to another arrive in the order they were sent.
 * - A node may address itself.
 * - After `close` the node receives nothing and `send` to it resolves `false`.
 */
export interface NodeBus {
  readonly nodeId: string
  start(handler: NodeBusHandler): Promise<void>
  send(nodeId: string, topic: string, payload: unknown): Promise<boolean>
  close(): Promise<void>
}
