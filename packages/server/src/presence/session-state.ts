/** What the presence service keeps on a session (keyed by session). */
export interface PresenceSessionState {
  /** Rooms this connection joined, with the meta it joined with. */
  readonly joined: Map<string, unknown>
  /** Rooms this connection watches, and whether in counts-only mode. */
  readonly watching: Map<string, boolean>
}
