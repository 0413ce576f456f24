import { movieCaption } from '../lib/format';

interface PosterMovie {
  title: string;
  year?: number | null;
  posterUrl?: string | null;
}

/** A poster at the data set's 182x268 aspect, lazily loaded, always with alt text. */
export function PosterImage({ movie, eager = false, className = 'poster' }: { movie: PosterMovie; eager?: boolean; className?: string }) {
  const alt = `Poster of ${movieCaption(movie)}`;
  if (!movie.posterUrl) {
    return (
      <div className={`${className} poster-missing`} role="img" aria-label={`${alt} (no poster stored)`}>
        <span aria-hidden="true">No poster</span>
      </div>
    );
  }
  return <img className={className} src={movie.posterUrl} alt={alt} width={182} height={268} loading={eager ? 'eager' : 'lazy'} decoding="async" />;
}
