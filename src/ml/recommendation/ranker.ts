/**
 * What the offline evaluation compares: a method fitted on training people that ranks catalogue movies
 * for a list of liked ones. The taste model and every baseline are rankers.
 */
import type { CatalogItem, PersonLikes } from './taste-model';

export interface Ranker {
  /** up to k movie ids, best first; never one of `liked`; only movies `accept` lets through */
  rank(liked: number[], k: number, accept?: (movieId: number) => boolean): number[];
}

export interface RankerSpec {
  name: string;
  fit(train: PersonLikes[], catalog: CatalogItem[]): Ranker;
}
