import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { useQuery } from 'urql';
import { EvidencePanel } from '../components/evidence';
import { GenreBars } from '../components/genre-bars';
import { MovieCard, MovieGrid } from '../components/movie-card';
import { ErrorNotice, Loading } from '../components/status';
import { graphql } from '../gql';
import type { PosterInput } from '../gql/graphql';
import { percent } from '../lib/format';
import { fileToBase64, firstImage, MAX_IMAGE_BYTES } from '../lib/image-file';

const PredictPoster = graphql(`
  query PredictPoster($poster: PosterInput!) {
    predictGenres(poster: $poster) {
      modelVersion
      genres {
        genre
        probability
        predicted
        threshold
      }
      evidence(k: 10) {
        ...EvidenceFields
      }
    }
  }
`);

const LookalikePosters = graphql(`
  query LookalikePosters($poster: PosterInput!, $k: Int) {
    similarPosters(poster: $poster, k: $k) {
      score
      movie {
        ...MovieCard
      }
    }
  }
`);

interface Chosen {
  input: PosterInput;
  /** What to show as the query poster: an object URL of the file, or the image URL itself. */
  previewUrl: string;
  name: string;
}

/** Drop, paste or pick a poster (or give an image URL): its predicted genres and look-alikes. */
export function UploadPage() {
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [url, setUrl] = useState('');
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const inputId = useId();

  const takeFile = useCallback(async (file: File | null) => {
    if (!file) return setProblem('That is not an image file.');
    if (file.size > MAX_IMAGE_BYTES) return setProblem(`That image is ${(file.size / 1e6).toFixed(1)} MB; the limit is 10 MB.`);
    setProblem(null);
    const imageBase64 = await fileToBase64(file);
    setChosen((old) => {
      if (old?.previewUrl.startsWith('blob:')) URL.revokeObjectURL(old.previewUrl);
      return { input: { imageBase64 }, previewUrl: URL.createObjectURL(file), name: file.name || 'pasted image' };
    });
  }, []);

  // Paste anywhere on the page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const file = firstImage(e.clipboardData?.files);
      if (file) {
        e.preventDefault();
        void takeFile(file);
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [takeFile]);

  const submitUrl = (e: React.FormEvent) => {
    e.preventDefault();
    const u = url.trim();
    if (!/^https?:\/\//i.test(u)) return setProblem('An image URL starts with http:// or https://.');
    setProblem(null);
    setChosen({ input: { imageUrl: u }, previewUrl: u, name: u });
  };

  return (
    <div className="upload">
      <h1>What genre does this poster say?</h1>
      <div
        className={dragging ? 'dropzone dragging' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          void takeFile(firstImage(e.dataTransfer.files));
        }}
      >
        <p>Drop a poster image here, paste one (Ctrl+V), or</p>
        <label htmlFor={inputId} className="button">
          Choose an image…
        </label>
        <input
          id={inputId}
          ref={fileInput}
          className="visually-hidden"
          type="file"
          accept="image/*"
          onChange={(e) => void takeFile(firstImage(e.currentTarget.files))}
        />
      </div>
      <form className="url-form" onSubmit={submitUrl}>
        <label>
          <span>or an image URL</span>
          <input type="url" value={url} placeholder="https://…/poster.jpg" onChange={(e) => setUrl(e.currentTarget.value)} />
        </label>
        <button type="submit">Predict</button>
      </form>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {chosen && <PosterResults key={chosen.previewUrl} chosen={chosen} />}
    </div>
  );
}

function PosterResults({ chosen }: { chosen: Chosen }) {
  const [prediction, retryPrediction] = useQuery({ query: PredictPoster, variables: { poster: chosen.input } });
  const [lookalikes, retryLookalikes] = useQuery({ query: LookalikePosters, variables: { poster: chosen.input, k: 12 } });
  return (
    <div className="upload-results">
      <figure className="query-poster">
        <img src={chosen.previewUrl} alt={`The poster you chose: ${chosen.name}`} />
        <figcaption>{chosen.name}</figcaption>
      </figure>
      <section aria-labelledby="upload-genres-title" className="predicted">
        <h2 id="upload-genres-title">Predicted genres</h2>
        {prediction.error ? (
          <ErrorNotice error={prediction.error} what="predict genres" onRetry={() => retryPrediction({ requestPolicy: 'network-only' })} />
        ) : !prediction.data ? (
          <Loading what="predicted genres" />
        ) : (
          <>
            <GenreBars scores={prediction.data.predictGenres.genres} label="Probability of each genre for your poster" />
            <EvidencePanel
              evidence={prediction.data.predictGenres.evidence}
              predicted={new Set(prediction.data.predictGenres.genres.filter((g) => g.predicted).map((g) => g.genre))}
              listed={false}
            />
            <p className="model-version">model {prediction.data.predictGenres.modelVersion}</p>
          </>
        )}
      </section>
      <section aria-labelledby="upload-evidence-title" className="upload-lookalikes">
        <h2 id="upload-evidence-title">Look-alikes in the catalogue</h2>
        {lookalikes.error ? (
          <ErrorNotice error={lookalikes.error} what="find look-alikes" onRetry={() => retryLookalikes({ requestPolicy: 'network-only' })} />
        ) : !lookalikes.data ? (
          <Loading what="look-alike posters" />
        ) : (
          <MovieGrid label="Posters like yours">
            {lookalikes.data.similarPosters.map((s) => (
              <MovieCard key={s.movie.id} movie={s.movie}>
                <span className="score">similarity {percent(s.score)}</span>
              </MovieCard>
            ))}
          </MovieGrid>
        )}
      </section>
    </div>
  );
}
