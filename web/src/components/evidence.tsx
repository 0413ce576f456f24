import { Link } from 'wouter';
import { graphql } from '../gql';
import { displayTitle, percent } from '../lib/format';
import { genreLabel } from '../lib/genres';
import { PosterImage } from './poster-image';

export const EvidenceFields = graphql(`
  fragment EvidenceFields on PredictionEvidence {
    k
    neighbours {
      similarity
      genres
      movie {
        id
        title
        year
        posterUrl
      }
    }
    support {
      genre
      neighbours
    }
  }
`);

/** The API's `PredictionEvidence`: the nearest labelled posters and how many of them carry each genre. */
export interface Evidence {
  k: number;
  neighbours: ReadonlyArray<{
    movie: { id: string; title: string; year?: number | null; posterUrl?: string | null };
    similarity: number;
    genres: readonly string[];
  }>;
  support: ReadonlyArray<{ genre: string; neighbours: number }>;
}

/** Why the model says what it says: which labelled posters lie nearest, and their genres. */
/** `listed`: show each neighbour (the movie page); off where the look-alikes are shown as posters anyway. */
export function EvidencePanel({ evidence, predicted, listed = true }: { evidence: Evidence; predicted: ReadonlySet<string>; listed?: boolean }) {
  if (evidence.neighbours.length === 0) return <p className="empty">No labelled poster to compare with yet.</p>;
  return (
    <div className="evidence">
      <p className="support">
        Of the {evidence.k} nearest labelled posters:{' '}
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
