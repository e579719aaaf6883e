/** A minimal typed event emitter; listener errors are isolated from each other. */
export class Emitter<Events extends Record<string, unknown>> {
  private listeners: { [K in keyof Events]?: Set<(value: Events[K]) => void> } = {}

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    ;(this.listeners[event] ??= new Set()).add(listener)
    return () => this.off(event, listener)
  }

  off<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): void {
    this.listeners[event]?.delete(listener)
  }

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    const set = this.listeners[event]
    if (!set) return
    for (const listener of [...set]) {
      try {
        listener(value)
      } catch (err) {
        // A throwing listener must not break delivery to the others, nor the connection.
        setTimeout(() => {
          throw err
        })
      }
    }
  }

  protected listenerCount(event: keyof Events): number {
    return this.listeners[event]?.size ?? 0
  }
}
