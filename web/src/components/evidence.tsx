import { Link } from 'wouter';
import { displayTitle, percent } from '../lib/format';
import { genreLabel } from '../lib/genres';
import { PosterImage } from './poster-image';

/** The shape of the API's `PredictionEvidence`: the nearest labelled posters and how many carry each genre. */
export interface Evidence {
  k: number;
  neighbours: ReadonlyArray<{
    movie: { id: string; title: string; year?: number | null; posterUrl?: string | null };
    similarity: number;
    genres: readonly string[];
  }>;
  support: ReadonlyArray<{ genre: string; neighbours: number }>;
}

/** Evidence built from look-alikes (`similar`/`similarPosters`) where the API has no `evidence` field. */
export function evidenceFromLookalikes(
  lookalikes: ReadonlyArray<{
    score: number;
    movie: { id: string; title: string; year?: number | null; posterUrl?: string | null; genres: readonly string[] };
  }>,
): Evidence {
  const counts = new Map<string, number>();
  for (const l of lookalikes) for (const g of l.movie.genres) counts.set(g, (counts.get(g) ?? 0) + 1);
  return {
    k: lookalikes.length,
    neighbours: lookalikes.map((l) => ({ movie: l.movie, similarity: l.score, genres: l.movie.genres })),
    support: [...counts].map(([genre, neighbours]) => ({ genre, neighbours })).sort((a, b) => b.neighbours - a.neighbours),
  };
}

/** Why the model says what it says: which labelled posters lie nearest, and their genres. */
/** `listed`: show each neighbour (the movie page); off where the look-alikes are shown as posters anyway. */
export function EvidencePanel({ evidence, predicted, listed = true }: { evidence: Evidence; predicted: ReadonlySet<string>; listed?: boolean }) {
  if (evidence.neighbours.length === 0) return <p className="empty">No labelled poster to compare with yet.</p>;
  return (
    <div className="evidence">
      <p className="support">
        Of the {evidence.neighbours.length} nearest labelled posters:{' '}
        {evidence.support.map((s, i) => (
          <span key={s.genre}>
            {i > 0 && ', '}
            <span className={predicted.has(s.genre) ? 'support-genre predicted' : 'support-genre'}>
              {s.neighbours} {genreLabel(s.genre)}
            </span>
          </span>
        ))}
      </p>
      {listed && (
        <ol className="neighbours">
          {evidence.neighbours.map((n) => (
            <li key={n.movie.id}>
              <PosterImage movie={n.movie} className="poster-thumb" />
              <div>
                <Link href={`/movie/${n.movie.id}`} className="neighbour-title">
                  {displayTitle(n.movie.title)}
                </Link>
                <span className="neighbour-meta">
                  similarity {percent(n.similarity)} · {n.genres.map(genreLabel).join(', ') || 'no genre'}
                </span>
              </div>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
