import { genreLabel } from '../lib/genres';
import { percent } from '../lib/format';

export interface BarScore {
  genre: string;
  probability: number;
  predicted: boolean;
  /** The model's decision threshold for this genre, when the API reports it. */
  threshold?: number | null;
}

/**
 * Predicted genres as horizontal bars, most likely first. Each bar is marked at its decision
 * threshold when the API gives one; predicted genres (at or over it) are drawn solid.
 */
export function GenreBars({ scores, label }: { scores: BarScore[]; label: string }) {
  const sorted = [...scores].sort((a, b) => b.probability - a.probability);
  const anyThreshold = sorted.some((s) => s.threshold != null);
  return (
    <figure className="genre-bars">
      <figcaption>{label}</figcaption>
      <ol>
        {sorted.map((s) => (
          <li key={s.genre} className={s.predicted ? 'bar predicted' : 'bar'}>
            <span className="bar-label">{genreLabel(s.genre)}</span>
            <span
              className="bar-track"
              role="meter"
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(s.probability * 100)}
              aria-label={`${genreLabel(s.genre)}: ${percent(s.probability)}${s.predicted ? ', predicted' : ''}${s.threshold != null ? `, threshold ${percent(s.threshold)}` : ''}`}
            >
              <span className="bar-fill" style={{ width: `${Math.max(0.5, s.probability * 100)}%` }} />
              {s.threshold != null && <span className="bar-threshold" style={{ left: `${s.threshold * 100}%` }} title={`threshold ${percent(s.threshold)}`} />}
            </span>
            <span className="bar-value">
              {percent(s.probability)}
              {s.predicted && <span className="visually-hidden"> (predicted)</span>}
            </span>
          </li>
        ))}
      </ol>
      <p className="legend">
        <span className="legend-swatch predicted" aria-hidden="true" /> predicted genre
        {anyThreshold && (
          <>
            {' '}
            <span className="legend-threshold" aria-hidden="true" /> the model's decision threshold
          </>
        )}
      </p>
    </figure>
  );
}
