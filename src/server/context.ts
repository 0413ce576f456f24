import DataLoader from 'dataloader';
import type { Role } from '../domain/api-key';
import type { GenreScoreValue } from '../domain/model';
import type { GenreModelService } from '../services/genre-model.service';
import type { CostBudget } from './query-limits';

/** Per-request GraphQL context: the caller's role and request-scoped loaders. Services come by injection. */
export interface RequestContext {
  role: Role | null;
  /** The query cost this HTTP request has spent (the operations of a batch share it). */
  budget: CostBudget;
  loaders: {
    /** The active model's stored scores: one query for a whole page of movies. */
    prediction: DataLoader<number, GenreScoreValue[] | null>;
  };
}

export function createContext(models: GenreModelService, role: Role | null): RequestContext {
  return {
    role,
    budget: { spent: 0 },
    loaders: {
      prediction: new DataLoader(async (ids: readonly number[]) => {
        const scores = await models.storedPredictions(ids);
        return ids.map((id) => scores.get(id) ?? null);
      }),
    },
  };
}
