/**
 * `marquee mcp` as a chat client sees it: the SDK's own Client spawns it over stdio (and talks to
 * it over streamable HTTP with --http), against the shared client fixture's API. Results are
 * checked against what the GraphQL API itself answers.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LIKE_AT } from '../../src/domain/rating';
import { ratingsSlice } from '../ratings-support';
import { CLI, tmpDir } from '../support';
import { UNSEEN_POSTER } from './explorer';
import { ClientFixture } from './fixture';

// marquee's CLI: `marquee mcp` is what a chat client spawns.

async function stdioClient(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'marquee-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp'],
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'ignore',
  });
  await client.connect(transport);
  return client;
}

/** MovieLens people whose ratings are in the fixture (the sample's movies), with their liked IMDb ids, fewest likes first (at least 3). */
function peopleWithLikes(): Array<{ person: string; liked: string[] }> {
  const likes = new Map<string, string[]>();
  for (const l of ratingsSlice(tmpDir(), 0).known) if (Number(l.rating) >= LIKE_AT) likes.set(l.userId, [...(likes.get(l.userId) ?? []), l.imdbId]);
  return [...likes.entries()]
    .filter(([, l]) => l.length >= 3)
    .sort((a, b) => a[1].length - b[1].length || Number(a[0]) - Number(b[0]))
    .map(([person, liked]) => ({ person, liked }));
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

export function mcpSuite(fixture: () => ClientFixture): void {
  describe('MCP server over stdio', () => {
    let client: Client;
    let f: ClientFixture;
    const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

    before(async () => {
      f = fixture();
      client = await stdioClient({ MARQUEE_API_URL: f.apiUrl });
    });
    after(() => client?.close());

    test('lists the six tools, each with an input schema', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['also_liked', 'get_movie', 'predict_genres', 'recommend_movies', 'search_movies', 'similar_posters']);
      for (const t of tools) {
        assert.equal(t.inputSchema.type, 'object');
        assert.ok(t.description && t.description.length > 20, t.name);
      }
    });

    test('search_movies returns the API total and one line per movie with its id', async () => {
      const r = await call('search_movies', { query: 'love', first: 5 });
      const truth = (await f.gql('{ movies(first: 5, filter: {search: "love"}) { totalCount edges { node { id } } } }')).data.movies;
      assert.ok(!r.isError, text(r));
      const s = r.structuredContent as { totalCount: number; movies: Array<{ id: string }>; nextCursor: string | null };
      assert.equal(s.totalCount, truth.totalCount);
      assert.deepEqual(
        s.movies.map((m) => m.id),
        truth.edges.map((e: { node: { id: string } }) => e.node.id),
      );
      assert.match(text(r), new RegExp(`^${truth.totalCount} movies match`));
      for (const e of truth.edges) assert.ok(text(r).includes(`[id ${e.node.id}]`));
      if (truth.totalCount > 5) assert.ok(s.nextCursor && text(r).includes(`after="${s.nextCursor}"`));
    });

    test('get_movie by IMDb id: readable title, facts, predicted genres and look-alikes', async () => {
      const r = await call('get_movie', { imdbId: 'tt0116209' });
      assert.ok(!r.isError, text(r));
      assert.match(text(r), /^The English Patient \(1996\) \[id \d+\] · DRAMA, ROMANCE, OTHERS/);
      assert.match(text(r), /genres from the poster, predicted: /);
      assert.match(text(r), /\nevidence: of the 10 nearest labelled posters, \d+ [A-Z]+/);
      const s = r.structuredContent as { predictedGenres: unknown[]; similar: unknown[] };
      assert.equal(s.predictedGenres.length, 13);
      assert.equal(s.similar.length, 5);
    });

    test('predict_genres on a local image path matches the API on the same bytes', async () => {
      const r = await call('predict_genres', { imagePath: UNSEEN_POSTER });
      assert.ok(!r.isError, text(r));
      const truth = (
        await f.gql('query($b: String!) { predictGenres(poster: {imageBase64: $b}) { modelVersion genres { genre predicted } } }', {
          b: fs.readFileSync(UNSEEN_POSTER).toString('base64'),
        })
      ).data.predictGenres;
      const s = r.structuredContent as { modelVersion: string; predicted: string[]; evidence: { k: number; neighbours: unknown[] } };
      assert.equal(s.modelVersion, truth.modelVersion);
      assert.equal(s.evidence.neighbours.length, s.evidence.k);
      assert.deepEqual(
        s.predicted.sort(),
        truth.genres
          .filter((g: { predicted: boolean }) => g.predicted)
          .map((g: { genre: string }) => g.genre)
          .sort(),
      );
      assert.match(text(r), /^predicted: .*\nall: .*\nevidence: of the 10 nearest labelled posters, /);
    });

    test('similar_posters with a genre filter returns only movies of that genre, as the API does', async () => {
      const id = (await f.gql('{ movie(imdbId: "tt0116209") { id } }')).data.movie.id as string;
      const r = await call('similar_posters', { movieId: id, k: 8, genres: ['COMEDY'] });
      assert.ok(!r.isError, text(r));
      const truth = (await f.gql(`{ similarPosters(poster: {movieId: "${id}"}, k: 8, filter: {genres: [COMEDY]}) { movie { id } } }`)).data.similarPosters;
      const s = r.structuredContent as { results: Array<{ movie: { id: string; genres: string[] } }> };
      assert.deepEqual(
        s.results.map((x) => x.movie.id),
        truth.map((x: { movie: { id: string } }) => x.movie.id),
      );
      for (const x of s.results) assert.ok(x.movie.genres.includes('COMEDY'));
      assert.equal(text(r).split('\n').length, truth.length);
    });

    test('recommend_movies says why (reason) and which liked movie led to each recommendation, as the API does', async () => {
      const ids = (await f.gql('{ movies(first: 2) { edges { node { id } } } }')).data.movies.edges.map((e: { node: { id: string } }) => e.node.id);
      const r = await call('recommend_movies', { liked: ids, k: 5 });
      assert.ok(!r.isError, text(r));
      const s = r.structuredContent as { results: Array<{ reason: string; movie: { id: string }; because: Array<{ id: string }> }> };
      const truth = (await f.gql(`query($l: [ID!]) { recommendations(liked: $l, k: 5) { reason movie { id } } }`, { l: ids })).data.recommendations;
      assert.deepEqual(
        s.results.map((x) => [x.movie.id, x.reason]),
        truth.map((x: { reason: string; movie: { id: string } }) => [x.movie.id, x.reason]),
      );
      for (const x of s.results) assert.ok(x.because.every((b) => ids.includes(b.id)));
      const lines = text(r).split('\n');
      assert.equal(lines.length, 5);
      lines.forEach((line, i) => assert.ok(line.includes(` · ${s.results[i].reason}`), line));
      assert.match(text(r), /because you liked/);
    });

    test('recommend_movies for a stored person (userId): collaborative picks named with the likes behind them; nobody at all gets POPULAR', async () => {
      // a person whose top 5 holds a collaborative pick (by the API), among the first 20
      let chosen: { person: string; liked: string[] } | undefined;
      for (const p of peopleWithLikes().slice(0, 20)) {
        const api = (await f.gql(`query($u: String) { recommendations(userId: $u, k: 5) { reason } }`, { u: p.person })).data.recommendations;
        if (api.some((x: { reason: string }) => x.reason === 'COLLABORATIVE')) {
          chosen = p;
          break;
        }
      }
      assert.ok(chosen, 'somebody gets a collaborative recommendation');
      const { person, liked } = chosen;
      const likedIds = await Promise.all(
        liked.map(async (i) => (await f.gql(`query($i: String) { movie(imdbId: $i) { id } }`, { i })).data.movie.id as string),
      );
      const r = await call('recommend_movies', { userId: person, k: 5 });
      assert.ok(!r.isError, text(r));
      const s = r.structuredContent as { results: Array<{ reason: string; movie: { id: string }; because: Array<{ id: string }> }> };
      const truth = (await f.gql(`query($u: String) { recommendations(userId: $u, k: 5) { reason movie { id } because { id } } }`, { u: person })).data
        .recommendations;
      assert.deepEqual(
        s.results.map((x) => [x.movie.id, x.reason, x.because.map((b) => b.id)]),
        truth.map((x: { reason: string; movie: { id: string }; because: Array<{ id: string }> }) => [x.movie.id, x.reason, x.because.map((b) => b.id)]),
      );
      for (const x of s.results) {
        assert.ok(!likedIds.includes(x.movie.id), 'a movie the person liked is never recommended');
        assert.ok(
          x.because.every((b) => likedIds.includes(b.id)),
          JSON.stringify(x),
        );
      }
      assert.ok(
        s.results.some((x) => x.reason === 'COLLABORATIVE'),
        text(r),
      );
      assert.match(text(r), / · COLLABORATIVE because you liked /);

      const anyone = await call('recommend_movies', { k: 3 });
      assert.ok(!anyone.isError, text(anyone));
      const popular = (anyone.structuredContent as { results: Array<{ reason: string; because: unknown[] }> }).results;
      assert.deepEqual(
        popular.map((x) => [x.reason, x.because.length]),
        [
          ['POPULAR', 0],
          ['POPULAR', 0],
          ['POPULAR', 0],
        ],
      );
      assert.doesNotMatch(text(anyone), /because/);
      const bad = await call('recommend_movies', { userId: '' });
      assert.equal(bad.isError, true);
    });

    test('also_liked lists what the people who liked a movie also liked, with how many liked both, as Movie.alsoLiked does', async () => {
      const imdbId = peopleWithLikes()[0].liked[0];
      const liked = (await f.gql(`query($i: String) { movie(imdbId: $i) { id } }`, { i: imdbId })).data.movie.id as string;
      const r = await call('also_liked', { movieId: liked, k: 5 });
      assert.ok(!r.isError, text(r));
      const s = r.structuredContent as { movie: { id: string }; results: Array<{ people: number; movie: { id: string } }> };
      const truth = (await f.gql(`query($id: ID) { movie(id: $id) { alsoLiked(k: 5) { people movie { id } } } }`, { id: liked })).data.movie.alsoLiked;
      assert.equal(s.movie.id, liked);
      assert.ok(s.results.length > 0);
      assert.deepEqual(
        s.results.map((x) => [x.movie.id, x.people]),
        truth.map((x: { people: number; movie: { id: string } }) => [x.movie.id, x.people]),
      );
      assert.match(text(r), /^people who liked .*\[id \d+\].* also liked:\n1\. .* · \d+ (person|people) liked both · score /);
      const missing = await call('also_liked', { movieId: '999999999' });
      assert.equal(missing.isError, true);
      assert.match(text(missing), /^NOT_FOUND/);
    });

    test('tool errors: invalid input, the API code of a refused image, an unknown movie', async () => {
      const two = await call('predict_genres', { movieId: '1', imageUrl: 'https://example.com/a.jpg' });
      assert.equal(two.isError, true);
      assert.match(text(two), /exactly one of movieId, imagePath, imageUrl or imageBase64/);
      const junk = await call('predict_genres', { imageBase64: Buffer.from('not an image at all').toString('base64') });
      assert.equal(junk.isError, true);
      assert.match(text(junk), /^BAD_USER_INPUT \(NOT_AN_IMAGE\): /);
      const missing = await call('get_movie', { id: '999999999' });
      assert.equal(missing.isError, true);
      assert.match(text(missing), /^NOT_FOUND/);
      const noFile = await call('predict_genres', { imagePath: '/nonexistent/poster.jpg' });
      assert.match(text(noFile), /^BAD_USER_INPUT \(FILE_NOT_FOUND\)/);
    });

    test('an unreachable API is a tool error saying so, not a crash', async () => {
      const offline = await stdioClient({ MARQUEE_API_URL: 'http://127.0.0.1:9/graphql' });
      try {
        const r = (await offline.callTool({ name: 'search_movies', arguments: { query: 'love' } })) as CallToolResult;
        assert.equal(r.isError, true);
        assert.match(text(r), /^SERVICE_UNAVAILABLE \(API_UNREACHABLE\): cannot reach the Marquee API at http:\/\/127\.0\.0\.1:9\/graphql/);
      } finally {
        await offline.close();
      }
    });
  });

  describe('MCP server over streamable HTTP (--http)', () => {
    let child: ChildProcess;
    let url: string;
    before(async () => {
      child = spawn(process.execPath, [CLI, 'mcp', '--http', '--port', '0'], {
        env: { ...process.env, MARQUEE_API_URL: fixture().apiUrl },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      url = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          const m = /streamable HTTP at (\S+)/.exec(err);
          if (m) resolve(m[1].replace(/,$/, ''));
        });
        child.once('exit', (code) => reject(new Error(`mcp --http exited ${code}: ${err}`)));
      });
    });
    after(() => child?.kill('SIGTERM'));

    test('answers tools/list and tools/call', async () => {
      const client = new Client({ name: 'marquee-test-http', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      try {
        assert.equal((await client.listTools()).tools.length, 6);
        const r = (await client.callTool({ name: 'search_movies', arguments: { query: 'love', first: 3 } })) as CallToolResult;
        assert.ok(!r.isError, text(r));
        assert.match(text(r), /movies match/);
      } finally {
        await client.close();
      }
    });
  });
}
