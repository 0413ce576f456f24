/** The evidence behind a genre prediction, as the services hand it out: plain data. */
import type { MovieRecord } from './movie';

/** One of the k labelled posters nearest to the predicted one. */
export interface EvidenceNeighbour {
  movie: MovieRecord;
  /** Cosine similarity of the two posters' embeddings. */
  similarity: number;
  /** The neighbour's own genre labels (GENRES order). */
  labels: string[];
}

/** How many of the k neighbours carry a genre. */
export interface GenreSupportValue {
  genre: string;
  neighbours: number;
}

export interface PredictionEvidenceResult {
  k: number;
  /** Nearest first; fewer than k only when the catalogue holds fewer labelled posters. */
  neighbours: EvidenceNeighbour[];
  /** Every predicted genre and every genre a neighbour carries, most supported first (ties in GENRES order). */
  support: GenreSupportValue[];
}
