/** What the running server reports about itself (serverInfo, /readyz). */
export interface ServerStatus {
  version: string;
  database: 'postgres' | 'pglite';
  backbone: string;
  /** Execution provider the embedder got (null until it first starts, or when it cannot). */
  provider: string | null;
  skippedProviders: Array<{ provider: string; reason: string }>;
  activeModelVersion: string | null;
  indexedPosters: number;
  indexGraphReady: boolean;
  indexFilteredLists: number;
  indexWarm: boolean;
  recommender: RecommenderState;
}

/** The recommender's fitted model in this process (RecommendationService). */
export interface RecommenderState {
  /** A fitted model answers (else recommendations come from poster similarity alone). */
  ready: boolean;
  fitting: boolean;
  people: number;
  items: number;
  likes: number;
  fittedAt: Date | null;
  fitMs: number | null;
  /** Fits completed by this process (0 before the first): a newer model has a larger version. */
  version: number;
  /** The stored interactions the model was fitted on ("count:latest write"; null before the first fit). */
  interactionsStamp: string | null;
}

export type Readiness = { ready: true; database: 'postgres' | 'pglite' } | { ready: false; status: string; error?: string; database: 'postgres' | 'pglite' };
