import DataLoader from 'dataloader';
import { App } from '../app';
import { MovieEntity } from '../db/entities';

export type Role = 'admin' | 'user';

/** Per-request GraphQL context: the app's services, the caller's role, and request-scoped loaders. */
export interface RequestContext {
  app: App;
  role: Role | null;
  loaders: {
    movie: DataLoader<number, MovieEntity | null>;
  };
}

export function createContext(app: App, role: Role | null): RequestContext {
  return {
    app,
    role,
    loaders: {
      movie: new DataLoader(async (ids: readonly number[]) => {
        const rows = await app.movies.repo.findByIds(ids);
        const byId = new Map(rows.map((m) => [m.id, m]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
    },
  };
}
