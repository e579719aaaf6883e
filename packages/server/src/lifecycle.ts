/** starting → running → draining → stopped; no way back. */
export type ServerState = 'starting' | 'running' | 'draining' | 'stopped'

const next: Record<ServerState, readonly ServerState[]> = {
  starting: ['running', 'draining', 'stopped'],
  running: ['draining', 'stopped'],
  draining: ['stopped'],
  stopped: [],
}

export class Lifecycle {
  private current: ServerState = 'starting'

  get state(): ServerState {
    return this.current
  }

  /** Moves forward; returns false (and stays) if the move is not allowed from here. */
  to(state: ServerState): boolean {
    if (!next[this.current].includes(state)) return false
    this.current = state
    return true
  }
}
