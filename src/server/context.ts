import DataLoader from 'dataloader';
import { App } from '../app';
import { MovieEntity } from '../db/entities';
import { GenreScoreValue } from '../services/genre-model.service';

export type Role = 'admin' | 'user';

/** Per-request GraphQL context: the app's services, the caller's role, and request-scoped loaders. */
export interface RequestContext {
  app: App;
  role: Role | null;
  loaders: {
    movie: DataLoader<number, MovieEntity | null>;
    /** The active model's stored scores: one query for a whole page of movies. */
    prediction: DataLoader<number, GenreScoreValue[] | null>;
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
      prediction: new DataLoader(async (ids: readonly number[]) => {
        const scores = await app.models.storedPredictions(ids);
        return ids.map((id) => scores.get(id) ?? null);
      }),
    },
  };
}
