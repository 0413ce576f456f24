// The admin API key lives in sessionStorage: it survives a reload but not the browser session,
// and it is sent only to this origin's /graphql.
const STORAGE_KEY = 'marquee.adminKey';

export function readAdminKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function writeAdminKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled: the key then lasts as long as the page (the context still holds it).
  }
}
