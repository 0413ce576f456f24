/**
 * What one process tells the others it changed, so that their in-memory views (the movie catalog,
 * the similarity index, the active genre model) follow within a second (ChangeFeed).
 */
export type Change =
  /** Movies inserted or updated (their rows, not their embeddings). */
  | { kind: 'movies'; ids: number[] }
  | { kind: 'movies-deleted'; ids: number[] }
  /** Poster embeddings stored (new or re-embedded) for a backbone. */
  | { kind: 'embeddings'; backbone: string; ids: number[] }
  /** The active genre model version of a backbone changed (a training that activated, an activation, a rollback). */
  | { kind: 'model'; backbone: string }
  /** Refit the recommender now, on what is stored (`marquee fit-recs`). */
  | { kind: 'recommender' }
  /**
   * Sent locally only, after the feed's connection came back: notifications may have been missed
   * meanwhile, so whatever is cached must be reloaded.
   */
  | { kind: 'resync' };
