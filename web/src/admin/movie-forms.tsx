import { useState } from 'react';
import { useMutation } from 'urql';
import { Link } from 'wouter';
import { ErrorNotice } from '../components/status';
import { graphql } from '../gql';
import type { AddMovieInput } from '../gql/graphql';
import { displayTitle } from '../lib/format';
import { fileToBase64, MAX_IMAGE_BYTES } from '../lib/image-file';

const AddMovie = graphql(`
  mutation AddMovie($input: AddMovieInput!) {
    addMovie(input: $input) {
      ...MovieCard
      predictedGenres {
        genre
        predicted
      }
    }
  }
`);

const DeleteMovieById = graphql(`
  mutation DeleteMovieById($id: ID!) {
    deleteMovie(id: $id)
  }
`);

/** A text field of a submitted form, trimmed ('' when absent or a file). */
function formText(data: FormData, name: string): string {
  const v = data.get(name);
  return typeof v === 'string' ? v.trim() : '';
}

// Movie lists and counts change with the catalogue.
const CATALOGUE_TYPES = { additionalTypenames: ['Movie', 'MovieConnection', 'GenreCount'] };

/** Adds a movie: the server stores, embeds and predicts its poster before answering. */
export function AddMovieForm() {
  const [state, addMovie] = useMutation(AddMovie);
  const [problem, setProblem] = useState<string | null>(null);

  const onSubmit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const text = (k: string) => formText(data, k);
    const int = (k: string) => (text(k) ? Number.parseInt(text(k), 10) : undefined);
    const file = data.get('posterFile');
    const input: AddMovieInput = {
      title: text('title'),
      year: int('year'),
      imdbId: text('imdbId') || undefined,
      storyline: text('storyline') || undefined,
      genres: text('genres')
        ? text('genres')
            .split(/[|,]/)
            .map((g) => g.trim())
            .filter(Boolean)
        : undefined,
      posterUrl: text('posterUrl') || undefined,
    };
    if (file instanceof File && file.size > 0) {
      if (file.size > MAX_IMAGE_BYTES) return setProblem('The poster is over 10 MB.');
      input.posterBase64 = await fileToBase64(file);
      input.posterUrl = undefined;
    }
    setProblem(null);
    const r = await addMovie({ input }, CATALOGUE_TYPES);
    if (!r.error) form.reset();
  };

  const added = state.data?.addMovie;
  return (
    <section aria-labelledby="add-title" className="add-movie">
      <h2 id="add-title">Add a movie</h2>
      <form onSubmit={(e) => void onSubmit(e)} className="stacked-form">
        <label>
          <span>Title</span>
          <input name="title" required maxLength={500} />
        </label>
        <label>
          <span>Year</span>
          <input name="year" type="number" min={1800} max={2200} />
        </label>
        <label>
          <span>IMDb id</span>
          <input name="imdbId" pattern="tt[0-9]{7,10}" placeholder="tt0116209" />
        </label>
        <label>
          <span>Genres (comma-separated, e.g. Comedy, Sci-Fi)</span>
          <input name="genres" />
        </label>
        <label>
          <span>Storyline</span>
          <textarea name="storyline" rows={3} maxLength={10000} />
        </label>
        <label>
          <span>Poster file</span>
          <input name="posterFile" type="file" accept="image/*" />
        </label>
        <label>
          <span>or poster URL</span>
          <input name="posterUrl" type="url" placeholder="https://…" />
        </label>
        <button type="submit" disabled={state.fetching}>
          {state.fetching ? 'Adding…' : 'Add movie'}
        </button>
      </form>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {state.error && <ErrorNotice error={state.error} what="add the movie" />}
      {added && !state.fetching && !state.error && (
        <p role="status" className="success">
          Added <Link href={`/movie/${added.id}`}>{displayTitle(added.title)}</Link> (id {added.id})
          {added.predictedGenres.some((g) => g.predicted) &&
            `; predicted ${added.predictedGenres
              .filter((g) => g.predicted)
              .map((g) => g.genre.toLowerCase())
              .join(', ')}`}
          .
        </p>
      )}
    </section>
  );
}

export function DeleteMovieForm() {
  const [state, deleteMovie] = useMutation(DeleteMovieById);
  const [deleted, setDeleted] = useState<string | null>(null);
  const onSubmit = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const id = formText(new FormData(form), 'id');
    if (!id || !window.confirm(`Delete movie ${id}?`)) return;
    const r = await deleteMovie({ id }, CATALOGUE_TYPES);
    if (!r.error) {
      setDeleted(r.data?.deleteMovie ? `Deleted movie ${id}.` : `There was no movie ${id}.`);
      form.reset();
    }
  };
  return (
    <section aria-labelledby="delete-title" className="delete-movie">
      <h2 id="delete-title">Delete a movie</h2>
      <form onSubmit={(e) => void onSubmit(e)} className="inline-form">
        <label>
          <span>Movie id</span>
          <input name="id" required inputMode="numeric" />
        </label>
        <button type="submit" className="danger" disabled={state.fetching}>
          Delete
        </button>
      </form>
      {state.error && <ErrorNotice error={state.error} what="delete the movie" />}
      {deleted && !state.error && <p role="status">{deleted}</p>}
    </section>
  );
}
