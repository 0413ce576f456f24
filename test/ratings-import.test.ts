import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { App } from '../src/app';
import { normaliseImdbId } from '../src/services/import/ratings-import.service';
import { ratingsSlice, type RatingsSlice } from './ratings-support';
import { cleanupAll, DB_KINDS, openApp, SAMPLE_CSV, tmpDir } from './support';

after(cleanupAll);

const stored = (app: App, person: string) =>
  app.db.dataSource.query<Array<{ imdb_id: string; rating: number | null; liked: boolean | null; rated_at: Date }>>(
    `SELECT m.imdb_id, i.rating, i.liked, i.rated_at FROM interaction i JOIN movie m ON m.id = i.movie_id WHERE i.person = $1 ORDER BY m.imdb_id`,
    [person],
  );

test('IMDb ids are normalised from links.csv and plain files', () => {
  assert.equal(normaliseImdbId('0114709'), 'tt0114709');
  assert.equal(normaliseImdbId('114709'), 'tt0114709');
  assert.equal(normaliseImdbId('tt0114709'), 'tt0114709');
  assert.equal(normaliseImdbId('tt10872600'), 'tt10872600');
  assert.equal(normaliseImdbId('nm0000001'), undefined);
  assert.equal(normaliseImdbId(''), undefined);
});

for (const kind of DB_KINDS) {
  describe(`import-ratings on ${kind}`, () => {
    let app: App;
    let slice: RatingsSlice;
    let dir: string;

    before(async () => {
      app = await openApp(kind);
      const r = await app.importer.importCsv(SAMPLE_CSV, { progress: false });
      assert.equal(r.imported, 400);
      dir = tmpDir();
      slice = ratingsSlice(dir);
    });

    test('MovieLens ratings join links.csv beside them; lines of other movies are skipped; a re-run changes nothing', async () => {
      const first = await app.ratingsImport.importFile(slice.ratings, { progress: false, batchSize: 100 });
      assert.equal(first.format, 'movielens');
      assert.equal(first.links, path.join(dir, 'links.csv'));
      assert.equal(first.lines, slice.lines.length);
      assert.deepEqual([first.imported, first.updated, first.unchanged, first.skipped], [slice.known.length, 0, 0, slice.unknown.length]);
      assert.equal(first.skips.length, 1);
      assert.equal(first.skips[0].reason, 'UNKNOWN_MOVIE');
      assert.equal(first.skips[0].count, slice.unknown.length);
      // Line numbers count the header as line 1.
      const firstUnknown = slice.lines.indexOf(slice.unknown[0]) + 2;
      assert.equal(first.skips[0].lines[0], firstUnknown);
      assert.equal(first.skips[0].lines.length, 5);
      assert.match(first.skips[0].example, /not in the catalogue|no line in links\.csv/);

      // What is stored is what the file says, for one person.
      const person = slice.known[0].userId;
      const mine = slice.known.filter((l) => l.userId === person).sort((a, b) => a.imdbId.localeCompare(b.imdbId));
      const rows = await stored(app, person);
      assert.deepEqual(
        rows.map((r) => [r.imdb_id, r.rating, r.liked, r.rated_at.getTime() / 1000]),
        mine.map((l) => [l.imdbId, Number(l.rating), null, Number(l.timestamp)]),
      );

      const second = await app.ratingsImport.importFile(slice.ratings, { progress: false });
      assert.deepEqual([second.imported, second.updated, second.unchanged, second.older, second.skipped], [0, 0, slice.known.length, 0, slice.unknown.length]);
      assert.deepEqual(await stored(app, person), rows);
    });

    test('plain user,imdb_id,rating[,timestamp]: a newer rating replaces the stored one, an older one never does', async () => {
      const [a, b] = slice.known.filter((l) => l.userId === slice.known[0].userId);
      const t = Number(a.timestamp);
      const file = path.join(dir, 'plain.csv');
      fs.writeFileSync(
        file,
        [
          'user,imdb_id,rating,timestamp',
          `${a.userId},${a.imdbId},0.5,${t + 3600}`, // newer: replaces
          `${b.userId},${b.imdbId.slice(2)},5,${Number(b.timestamp) - 3600}`, // older: kept as it was
          `web-42,${a.imdbId},like,2024-05-01T10:00:00Z`, // a like, an ISO time, a new person
          `web-42,${b.imdbId},4.5`, // no time: the import's time
        ].join('\n'),
      );
      const r = await app.ratingsImport.importFile(file, { progress: false });
      assert.equal(r.format, 'plain');
      assert.deepEqual([r.imported, r.updated, r.unchanged, r.older, r.skipped], [2, 1, 1, 1, 0]);
      const rows = new Map((await stored(app, a.userId)).map((x) => [x.imdb_id, x]));
      assert.equal(rows.get(a.imdbId)!.rating, 0.5);
      assert.equal(rows.get(a.imdbId)!.rated_at.getTime() / 1000, t + 3600);
      assert.equal(rows.get(b.imdbId)!.rating, Number(b.rating));
      const web = await stored(app, 'web-42');
      assert.deepEqual(
        web.map((x) => [x.rating, x.liked]),
        [a, b].sort((x, y) => x.imdbId.localeCompare(y.imdbId)).map((x) => (x === a ? [null, true] : [4.5, null])),
      );

      // The same file again: the line without a time has the same values, so nothing changes.
      const again = await app.ratingsImport.importFile(file, { progress: false });
      assert.deepEqual([again.imported, again.updated, again.unchanged, again.older], [0, 0, 4, 1]);
      // Re-importing the MovieLens slice does not bring the older rating back.
      const ml = await app.ratingsImport.importFile(slice.ratings, { progress: false });
      assert.deepEqual([ml.imported, ml.updated, ml.older], [0, 0, 1]);
      assert.equal(new Map((await stored(app, a.userId)).map((x) => [x.imdb_id, x])).get(a.imdbId)!.rating, 0.5);
    });

    test('bad lines are skipped with their reason, counts and first line numbers; good lines around them import', async () => {
      const k = slice.known;
      const file = path.join(dir, 'bad.csv');
      fs.writeFileSync(
        file,
        [
          'userId,movieId,rating,timestamp',
          `bad-1,${k[0].movieId},7,${k[0].timestamp}`, // 2: rating 7
          `bad-1,${k[1].movieId},0,${k[1].timestamp}`, // 3: rating 0
          `bad-1,${k[2].movieId},3.7,${k[2].timestamp}`, // 4: not a half step
          `bad-1,${k[3].movieId},four,${k[3].timestamp}`, // 5: not a number
          `bad-1,${k[4].movieId},4`, // 6: too few fields
          `bad-1,${k[5].movieId},4,${k[5].timestamp},extra`, // 7: too many
          `,${k[6].movieId},4,${k[6].timestamp}`, // 8: no user
          `bad-1,999999999,4,${k[7].timestamp}`, // 9: not in links.csv
          `bad-1,${k[8].movieId},4,yesterday`, // 10: bad time
          `bad-1,${k[10].movieId},3.5,${k[10].timestamp}`, // 11: good
          `bad-1,"${k[9].movieId},4,1`, // 12: a quote left open is this line's error
          `bad-1,${k[11].movieId},3,${k[11].timestamp}`, // 13: good
        ].join('\n'),
      );
      const r = await app.ratingsImport.importFile(file, { progress: false });
      const byReason = Object.fromEntries(r.skips.map((s) => [s.reason, s.lines]));
      assert.deepEqual(byReason.BAD_RATING, [2, 3, 4]);
      assert.deepEqual(byReason.UNKNOWN_MOVIE, [9]);
      assert.deepEqual(byReason.MALFORMED_LINE, [5, 6, 7, 8, 10]);
      assert.deepEqual(
        r.skips.map((s) => [s.reason, s.count]),
        [
          ['MALFORMED_LINE', 6],
          ['BAD_RATING', 3],
          ['UNKNOWN_MOVIE', 1],
        ],
      );
      assert.match(r.skips[1].example, /^line 2: rating 7 is outside 0\.5 to 5/);
      assert.equal(r.imported, 2);
      assert.deepEqual((await stored(app, 'bad-1')).map((x) => x.rating).sort(), [3, 3.5]);
    });

    test('bad files: missing, unknown header, empty, MovieLens without links.csv', async () => {
      const code = async (p: Promise<unknown>) => await p.then(() => undefined).catch((e: { reason?: string; code?: string }) => `${e.code}/${e.reason}`);
      assert.equal(await code(app.ratingsImport.importFile(path.join(dir, 'nope.csv'))), 'BAD_USER_INPUT/FILE_NOT_FOUND');
      const other = path.join(dir, 'other.csv');
      fs.writeFileSync(other, 'name,year\nx,2000\n');
      assert.equal(await code(app.ratingsImport.importFile(other)), 'BAD_USER_INPUT/UNKNOWN_RATINGS_FORMAT');
      const empty = path.join(dir, 'empty.csv');
      fs.writeFileSync(empty, '');
      assert.equal(await code(app.ratingsImport.importFile(empty)), 'BAD_USER_INPUT/EMPTY_FILE');
      const lone = tmpDir();
      fs.copyFileSync(slice.ratings, path.join(lone, 'ratings.csv'));
      assert.equal(await code(app.ratingsImport.importFile(path.join(lone, 'ratings.csv'))), 'BAD_USER_INPUT/LINKS_NOT_FOUND');
      // --links points elsewhere.
      const r = await app.ratingsImport.importFile(path.join(lone, 'ratings.csv'), { links: slice.links, progress: false });
      assert.equal(r.links, slice.links);
    });
  });
}
