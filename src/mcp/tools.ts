import fs from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { MAX_PERSON_ID_LENGTH } from '../domain/rating';
import { GENRES } from '../ml/genre/labels';
import { displayTitle } from '../presentation/display-title';
import { MarqueeApiClient, MarqueeApiError } from './api-client';
import { evidenceLine, fixed, genreScores, movieLine, numbered } from './format';
import { ALSO_LIKED, GET_MOVIE, PREDICT_GENRES, RECOMMEND_MOVIES, SEARCH_MOVIES, SIMILAR_POSTERS } from './operations';

const MAX_IMAGE_BYTES = 10 * 1024 * 1024; // the API's limit for imageBase64

// ---- input pieces ------------------------------------------------------------------------------
const genre = z.enum(GENRES);
const movieId = z.string().regex(/^\d{1,18}$/, 'a Marquee movie id (digits), as returned by search_movies');
const filterShape = {
  genres: z.array(genre).max(13).optional().describe('only movies having every one of these genres'),
  yearFrom: z.number().int().min(1800).max(2200).optional(),
  yearTo: z.number().int().min(1800).max(2200).optional(),
};
const posterShape = {
  movieId: movieId.optional().describe('a movie already in the catalogue'),
  imagePath: z.string().min(1).max(4096).optional().describe('a local image file, read by this MCP server'),
  imageUrl: z.string().url().max(2048).optional().describe('an http(s) image URL, fetched by the API'),
  imageBase64: z.string().min(1).max(14_000_000).optional().describe('image bytes, base64 (at most 10 MB decoded)'),
};
type PosterArgs = { movieId?: string; imagePath?: string; imageUrl?: string; imageBase64?: string };
const exactlyOnePoster = (a: PosterArgs) => [a.movieId, a.imagePath, a.imageUrl, a.imageBase64].filter((v) => v !== undefined).length === 1;
const ONE_POSTER = { message: 'give exactly one of movieId, imagePath, imageUrl or imageBase64' };

// ---- output pieces -----------------------------------------------------------------------------
const movieOut = z.object({ id: z.string(), title: z.string(), year: z.number().nullable(), genres: z.array(z.string()) });
const scoreOut = z.object({ genre: z.string(), probability: z.number(), predicted: z.boolean(), threshold: z.number() });
const supportOut = z.object({ genre: z.string(), neighbours: z.number() });
const REASONS = ['COLLABORATIVE', 'POSTER', 'GENRE', 'POPULAR'] as const;
type Reason = (typeof REASONS)[number];

interface ApiMovie {
  id: string;
  title: string;
  year: number | null;
  genres: string[];
  posterUrl?: string | null;
}
const movieData = (m: ApiMovie) => ({ id: m.id, title: displayTitle(m.title), year: m.year, genres: m.genres });
const filterOf = (a: { genres?: string[]; yearFrom?: number; yearTo?: number }) =>
  a.genres || a.yearFrom || a.yearTo ? { genres: a.genres, yearFrom: a.yearFrom, yearTo: a.yearTo } : undefined;

/** A PosterInput for the API; a local path is read here and sent as bytes. */
async function posterInput(a: PosterArgs): Promise<{ movieId?: string; imageUrl?: string; imageBase64?: string }> {
  if (a.movieId) return { movieId: a.movieId };
  if (a.imageUrl) return { imageUrl: a.imageUrl };
  if (a.imageBase64) return { imageBase64: a.imageBase64 };
  let bytes: Buffer;
  try {
    const stat = await fs.promises.stat(a.imagePath!);
    if (stat.size > MAX_IMAGE_BYTES) throw new MarqueeApiError(`${a.imagePath} is ${stat.size} bytes; the limit is 10 MB`, 'BAD_USER_INPUT', 'IMAGE_TOO_LARGE');
    bytes = await fs.promises.readFile(a.imagePath!);
  } catch (err) {
    if (err instanceof MarqueeApiError) throw err;
    throw new MarqueeApiError(
      `cannot read ${a.imagePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'BAD_USER_INPUT',
      'FILE_NOT_FOUND',
    );
  }
  return { imageBase64: bytes.toString('base64') };
}

function ok(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/** API errors become tool errors whose text starts with the API's code (and reason), so the model can react. */
async function run(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof MarqueeApiError)) throw err;
    return {
      isError: true,
      content: [{ type: 'text', text: `${err.code}${err.reason ? ` (${err.reason})` : ''}: ${err.message}` }],
      _meta: { code: err.code, ...(err.reason ? { reason: err.reason } : {}) },
    };
  }
}

export function registerMarqueeTools(server: McpServer, api: MarqueeApiClient): void {
  server.registerTool(
    'predict_genres',
    {
      title: 'Predict genres from a poster',
      description:
        'Genre probabilities for a movie poster under the active model; genres over their threshold are "predicted". ' +
        'Give exactly one of movieId (a catalogue movie), imagePath (local file), imageUrl or imageBase64.',
      inputSchema: z.object(posterShape).refine(exactlyOnePoster, ONE_POSTER),
      outputSchema: {
        modelVersion: z.string(),
        predicted: z.array(z.string()),
        genres: z.array(scoreOut),
        evidence: z.object({
          k: z.number(),
          support: z.array(supportOut),
          neighbours: z.array(
            z.object({
              similarity: z.number(),
              genres: z.array(z.string()),
              movie: z.object({ id: z.string(), title: z.string(), year: z.number().nullable() }),
            }),
          ),
        }),
        movie: movieOut.optional(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args) =>
      run(async () => {
        const poster = await posterInput(args);
        type Evidence = {
          k: number;
          support: z.infer<typeof supportOut>[];
          neighbours: Array<{ similarity: number; genres: string[]; movie: { id: string; title: string; year: number | null } }>;
        };
        const d = await api.request<{
          predictGenres: { modelVersion: string; genres: z.infer<typeof scoreOut>[]; evidence: Evidence };
          movie?: ApiMovie | null;
        }>(PREDICT_GENRES, {
          poster,
          movieId: args.movieId ?? null,
          withMovie: args.movieId !== undefined,
        });
        const { modelVersion, genres, evidence } = d.predictGenres;
        const head = d.movie ? `${movieLine(d.movie)}\n` : '';
        return ok(`${head}${genreScores(genres)}\n${evidenceLine(evidence.k, evidence.support)}\nmodel: ${modelVersion}`, {
          modelVersion,
          predicted: genres.filter((g) => g.predicted).map((g) => g.genre),
          genres,
          evidence: { ...evidence, neighbours: evidence.neighbours.map((n) => ({ ...n, movie: { ...n.movie, title: displayTitle(n.movie.title) } })) },
          ...(d.movie ? { movie: movieData(d.movie) } : {}),
        });
      }),
  );

  server.registerTool(
    'similar_posters',
    {
      title: 'Find posters that look alike',
      description:
        'Catalogue movies whose posters look most like the given poster (cosine similarity of poster embeddings, best first, never the movie itself). ' +
        'Give exactly one of movieId, imagePath, imageUrl or imageBase64; optionally filter by genres and years.',
      inputSchema: z
        .object({ ...posterShape, k: z.number().int().min(1).max(50).default(10).describe('how many (default 10)'), ...filterShape })
        .refine(exactlyOnePoster, ONE_POSTER),
      outputSchema: { results: z.array(z.object({ similarity: z.number(), movie: movieOut })) },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args) =>
      run(async () => {
        const d = await api.request<{ similarPosters: Array<{ score: number; movie: ApiMovie }> }>(SIMILAR_POSTERS, {
          poster: await posterInput(args),
          k: args.k,
          filter: filterOf(args),
        });
        const rows = d.similarPosters;
        const text = rows.length ? numbered(rows, (r) => `${movieLine(r.movie)} · similarity ${fixed(r.score)}`) : 'no poster matches';
        return ok(text, { results: rows.map((r) => ({ similarity: r.score, movie: movieData(r.movie) })) });
      }),
  );

  server.registerTool(
    'recommend_movies',
    {
      title: 'Recommend movies from likes and dislikes',
      description:
        'Movies recommended for a person: from the movies they liked (and, optionally, disliked), by id (find ids with search_movies), ' +
        'and with userId from what that person rated before (stored through the API). With neither, the movies most people liked. ' +
        'Each result gives its reason (COLLABORATIVE: liked by people who liked the same movies; POSTER: its poster, genres and year ' +
        'resemble what those people like, for movies nobody rated yet; GENRE: shares the liked genres; POPULAR: liked by most people) ' +
        'and the liked movies behind it ("because").',
      inputSchema: z.object({
        userId: z.string().min(1).max(MAX_PERSON_ID_LENGTH).optional().describe("a person's id as stored with their ratings"),
        liked: z.array(movieId).max(100).optional().describe('ids of liked movies'),
        disliked: z.array(movieId).max(100).optional().describe('ids of disliked movies'),
        k: z.number().int().min(1).max(50).default(10),
        ...filterShape,
      }),
      outputSchema: {
        results: z.array(
          z.object({ score: z.number(), reason: z.enum(REASONS), movie: movieOut, because: z.array(z.object({ id: z.string(), title: z.string() })) }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      run(async () => {
        const d = await api.request<{
          recommendations: Array<{ score: number; reason: Reason; movie: ApiMovie; because: Array<{ id: string; title: string; year: number | null }> }>;
        }>(RECOMMEND_MOVIES, { userId: args.userId, liked: args.liked ?? [], disliked: args.disliked, k: args.k, filter: filterOf(args) });
        const rows = d.recommendations;
        const text = rows.length
          ? numbered(
              rows,
              (r) =>
                `${movieLine(r.movie)} · score ${fixed(r.score)} · ${r.reason}${r.because.length ? ` because you liked ${r.because.map((b) => displayTitle(b.title)).join(', ')}` : ''}`,
            )
          : 'no recommendation';
        return ok(text, {
          results: rows.map((r) => ({
            score: r.score,
            reason: r.reason,
            movie: movieData(r.movie),
            because: r.because.map((b) => ({ id: b.id, title: displayTitle(b.title) })),
          })),
        });
      }),
  );

  server.registerTool(
    'also_liked',
    {
      title: 'People who liked this also liked',
      description: 'The movies most often liked by the people who liked the given movie (by id), with how many people liked both.',
      inputSchema: z.object({ movieId, k: z.number().int().min(1).max(50).default(10) }),
      outputSchema: {
        movie: movieOut,
        results: z.array(z.object({ score: z.number(), people: z.number(), movie: movieOut })),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      run(async () => {
        const d = await api.request<{ movie: (ApiMovie & { alsoLiked: Array<{ score: number; people: number; movie: ApiMovie }> }) | null }>(ALSO_LIKED, {
          id: args.movieId,
          k: args.k,
        });
        const m = d.movie;
        if (!m) throw new MarqueeApiError(`no movie with id ${args.movieId}`, 'NOT_FOUND', 'MOVIE_NOT_FOUND');
        const rows = m.alsoLiked;
        const text = [
          `people who liked ${movieLine(m)} also liked:`,
          rows.length
            ? numbered(rows, (r) => `${movieLine(r.movie)} · ${r.people} ${r.people === 1 ? 'person' : 'people'} liked both · score ${fixed(r.score)}`)
            : 'nothing yet: nobody who liked it liked another movie',
        ].join('\n');
        return ok(text, { movie: movieData(m), results: rows.map((r) => ({ score: r.score, people: r.people, movie: movieData(r.movie) })) });
      }),
  );

  server.registerTool(
    'search_movies',
    {
      title: 'Search the movie catalogue',
      description: 'Movies by title words, genres (all of them) and year range, with their ids. Page with `after` (the cursor a previous call returned).',
      inputSchema: z.object({
        query: z.string().max(200).optional().describe('words in the title'),
        ...filterShape,
        first: z.number().int().min(1).max(50).default(10),
        after: z.string().max(200).optional().describe('cursor from a previous search_movies call'),
      }),
      outputSchema: { totalCount: z.number(), movies: z.array(movieOut), nextCursor: z.string().nullable() },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      run(async () => {
        const filter = { ...filterOf(args), ...(args.query?.trim() ? { search: args.query.trim() } : {}) };
        const d = await api.request<{
          movies: { totalCount: number; edges: Array<{ node: ApiMovie }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
        }>(SEARCH_MOVIES, { filter, first: args.first, after: args.after });
        const { totalCount, edges, pageInfo } = d.movies;
        const next = pageInfo.hasNextPage ? pageInfo.endCursor : null;
        const text = [
          `${totalCount} movie${totalCount === 1 ? '' : 's'} match${edges.length < totalCount ? `; showing ${edges.length}` : ''}`,
          numbered(edges, (e) => movieLine(e.node)),
          ...(next ? [`more: call again with after="${next}"`] : []),
        ]
          .filter(Boolean)
          .join('\n');
        return ok(text, { totalCount, movies: edges.map((e) => movieData(e.node)), nextCursor: next });
      }),
  );

  server.registerTool(
    'get_movie',
    {
      title: 'Get one movie',
      description: 'A catalogue movie by Marquee id or IMDb id: facts, labelled genres, genres predicted from its poster, and its closest look-alikes.',
      inputSchema: z
        .object({
          id: movieId.optional(),
          imdbId: z
            .string()
            .regex(/^tt\d{7,10}$/, 'an IMDb id such as tt0116209')
            .optional(),
        })
        .refine((a) => (a.id === undefined) !== (a.imdbId === undefined), { message: 'give exactly one of id or imdbId' }),
      outputSchema: {
        movie: movieOut.extend({
          imdbId: z.string().nullable(),
          storyline: z.string().nullable(),
          runtimeMinutes: z.number().nullable(),
          ageRating: z.string().nullable(),
        }),
        predictedGenres: z.array(scoreOut),
        similar: z.array(z.object({ similarity: z.number(), movie: movieOut })),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (args) =>
      run(async () => {
        type Full = ApiMovie & {
          imdbId: string | null;
          ageRating: string | null;
          runtimeMinutes: number | null;
          storyline: string | null;
          rawGenres: string[];
          predictedGenres: z.infer<typeof scoreOut>[];
          genreEvidence: { k: number; support: z.infer<typeof supportOut>[] } | null;
          similar: Array<{ score: number; movie: ApiMovie }>;
        };
        const d = await api.request<{ movie: Full | null }>(GET_MOVIE, { id: args.id, imdbId: args.imdbId, similar: 5 });
        const m = d.movie;
        if (!m) throw new MarqueeApiError(`no movie with ${args.id ? `id ${args.id}` : `IMDb id ${args.imdbId}`}`, 'NOT_FOUND', 'MOVIE_NOT_FOUND');
        const lines = [
          movieLine(m),
          ...(m.imdbId ? [`IMDb: ${m.imdbId}`] : []),
          ...(m.runtimeMinutes ? [`runtime: ${m.runtimeMinutes} min`] : []),
          ...(m.ageRating ? [`age rating: ${m.ageRating}`] : []),
          ...(m.storyline ? [`storyline: ${m.storyline}`] : []),
          m.predictedGenres.length ? `genres from the poster, ${genreScores(m.predictedGenres)}` : 'genres from the poster: no active model yet',
          ...(m.genreEvidence ? [evidenceLine(m.genreEvidence.k, m.genreEvidence.support)] : []),
          ...(m.similar.length ? ['posters most alike:', numbered(m.similar, (s) => `${movieLine(s.movie)} · similarity ${fixed(s.score)}`)] : []),
        ];
        return ok(lines.join('\n'), {
          movie: { ...movieData(m), imdbId: m.imdbId, storyline: m.storyline, runtimeMinutes: m.runtimeMinutes, ageRating: m.ageRating },
          predictedGenres: m.predictedGenres,
          similar: m.similar.map((s) => ({ similarity: s.score, movie: movieData(s.movie) })),
        });
      }),
  );
}
