const KEY = 'switchboard-admin-credential'

/** The credential is kept for this tab only (sessionStorage), never in localStorage or a cookie. */
export const credential = {
  read: (): string | null => sessionStorage.getItem(KEY),
  save: (value: string) => sessionStorage.setItem(KEY, value),
  forget: () => sessionStorage.removeItem(KEY),
}
