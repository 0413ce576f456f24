import { cacheExchange, Client, fetchExchange } from 'urql';
import { readAdminKey } from '../admin/admin-key-store';

/**
 * One urql client for the whole explorer: same-origin `/graphql`, POST only (the server's CSRF
 * protection refuses simple GETs), and the admin key as a Bearer token when one is entered.
 */
export function createApiClient(url = '/graphql'): Client {
  return new Client({
    url,
    preferGetMethod: false,
    exchanges: [cacheExchange, fetchExchange],
    fetchOptions: (): RequestInit => {
      const key = readAdminKey();
      const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
      return { headers };
    },
  });
}
