const KEY = 'switchboard-demo-identity'
const NAMES = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger']
const COLORS = ['#2f6fed', '#1f9d55', '#d97706', '#d64545', '#7c3aed', '#0e7490', '#be185d', '#4d7c0f']

export interface Identity {
  name: string
  color: string
}

/** A name and colour per tab (sessionStorage), so two windows side by side are two people. */
export function identity(): Identity {
  const saved = sessionStorage.getItem(KEY)
  if (saved) return JSON.parse(saved) as Identity
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)] as T
  const me = { name: `${pick(NAMES)} ${Math.floor(Math.random() * 90) + 10}`, color: pick(COLORS) }
  sessionStorage.setItem(KEY, JSON.stringify(me))
  return me
}
