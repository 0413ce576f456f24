import { displayTitle } from '../lib/format';
import { useTaste, type MovieRef } from '../taste/taste';

/** Like / dislike toggles; pressing the active one again clears the opinion. */
export function TasteButtons({ movie, compact = false }: { movie: MovieRef; compact?: boolean }) {
  const { opinionOf, setOpinion } = useTaste();
  const opinion = opinionOf(movie.id);
  const title = displayTitle(movie.title);
  return (
    <div className={compact ? 'taste-buttons compact' : 'taste-buttons'}>
      <button
        type="button"
        className="like"
        aria-pressed={opinion === 'liked'}
        aria-label={`Like ${title}`}
        title={`Like ${title}`}
        onClick={() => setOpinion(movie, opinion === 'liked' ? null : 'liked')}
      >
        <span aria-hidden="true">♥</span>
        {!compact && ' Like'}
      </button>
      <button
        type="button"
        className="dislike"
        aria-pressed={opinion === 'disliked'}
        aria-label={`Dislike ${title}`}
        title={`Dislike ${title}`}
        onClick={() => setOpinion(movie, opinion === 'disliked' ? null : 'disliked')}
      >
        <span aria-hidden="true">✕</span>
        {!compact && ' Dislike'}
      </button>
    </div>
  );
}
