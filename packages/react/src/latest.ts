import { useEffect, useLayoutEffect, useRef, type MutableRefObject } from 'react'

/** useLayoutEffect in the browser, useEffect where there is no DOM (server rendering warns otherwise). */
const useIsomorphicLayoutEffect = typeof window === 'undefined' ? useEffect : useLayoutEffect

/** A ref that always holds the latest committed `value` (callbacks without resubscribing). */
export function useLatest<T>(value: T): MutableRefObject<T> {
  const ref = useRef(value)
  useIsomorphicLayoutEffect(() => {
    ref.current = value
  })
  return ref
}
