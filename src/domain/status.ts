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
}

export type Readiness = { ready: true; database: 'postgres' | 'pglite' } | { ready: false; status: string; error?: string; database: 'postgres' | 'pglite' };
