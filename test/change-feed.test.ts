/**
 * ChangeFeed on a real PostgreSQL: two Apps on one database stand for two API replicas; what one
 * writes (imported rows, embeddings, a deletion) reaches the other's catalog and similarity index
 * through LISTEN/NOTIFY within a second. (The same across real processes: replicas.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { App } from '../src/app';
import type { Change } from '../src/domain/change';
import { cleanupAll, openApp, sampleSubset, tmpDir } from './support';

after(cleanupAll);

/** Polls `check` every 20 ms until it holds; returns the milliseconds it took, failing after `limitMs`. */
async function within(limitMs: number, what: string, check: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > limitMs) assert.fail(`${what}: not seen within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

test(
  'a second App on the same PostgreSQL follows the first one’s imports, embeddings and deletions within 1 s',
  { skip: !process.env.TEST_DATABASE_URL },
  async () => {
    const a: App = await openApp('postgres');
    const b: App = await openApp('postgres', (c) => (c.database.url = a.config.database.url));
    const heard: Change[] = [];
    b.changes.subscribe((c) => void heard.push(c));
    await b.changes.start();
    await b.similarity.ready();
    assert.equal(b.similarity.indexSize, 0);

    const csv = sampleSubset(tmpDir(), 6);
    await a.importer.importCsv(csv, { progress: false });
    const imported = (await a.movies.list(undefined, 10)).movies.map((m) => m.id);
    assert.equal(imported.length, 6);
    // The other catalog knows the rows (no embedding yet), where it said NOT_FOUND before.
    const reasonOf = (id: number) =>
      b.similarity.vectorOf(id).then(
        () => 'OK',
        (err: { reason?: string }) => err.reason,
      );
    await within(1000, 'imported rows in the other catalog', async () => (await reasonOf(imported[5])) === 'NO_EMBEDDING');

    await a.embedding.embedMissing({ progress: false });
    const ms = await within(1000, 'embeddings in the other index', () => b.similarity.indexSize === 6);
    const ids = heard.flatMap((c) => (c.kind === 'embeddings' ? c.ids : []));
    assert.equal(ids.length, 6);
    // The other replica answers look-alike queries for the new posters, movie rows included.
    const similar = await b.similarity.similarToMovie(ids[0], 5);
    assert.equal(similar.length, 5);
    assert.ok(similar.every((s) => s.movie.title.length > 0));

    await a.movieAdmin.delete(ids[1]);
    await within(1000, 'the deletion in the other index', () => b.similarity.indexSize === 5);
    assert.ok((await b.similarity.similarToMovie(ids[0], 10)).every((s) => s.movie.id !== ids[1]));
    // The first App's own subscribers heard its changes at once, and nothing came back to it twice.
    assert.ok(ms < 1000);
  },
);
