/** An API key's role: `admin` may retrain and edit the catalogue; `user` may query. */
export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];
