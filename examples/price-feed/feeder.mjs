// The active data provider: publishes a price for prices/<symbol> only while someone watches it.
// `sb.listen` says when a symbol gains its first watcher (active: true) and loses its last one.

/**
 * Runs the feed on a connected client (its user needs the "feeder" role). Resolves once the
 * listener is registered; `active` is the set of symbols being fed now.
 */
export async function startFeeder(sb, { everyMs = 1000 } = {}) {
  const timers = new Map()
  const listener = sb.listen('prices/*', (channel, { active }) => {
    if (active) {
      let price = 100 + Math.random() * 50
      const tick = () => {
        price = Math.max(1, price * (1 + (Math.random() - 0.5) / 50))
        sb.publish(channel, { price: Number(price.toFixed(2)), at: Date.now() }).catch(() => {})
      }
      tick()
      timers.set(channel, setInterval(tick, everyMs))
    } else {
      clearInterval(timers.get(channel))
      timers.delete(channel)
    }
  })
  await listener.ready
  return {
    active: () => new Set(timers.keys()),
    async stop() {
      await listener.stop()
      for (const timer of timers.values()) clearInterval(timer)
      timers.clear()
    },
  }
}
