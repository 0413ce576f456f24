import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { parseRuntime, parseYear } from '../src/services/import/movie-row';
import { CLI, cleanupAll, DB_KINDS, MODELS_DIR, openApp, POSTERS_DIR, SAMPLE_CSV, tmpDir } from './support';

after(cleanupAll);

const movieState = (app: App) =>
  app.db.dataSource.query(
    `SELECT imdb_id, title, year, age_rating, runtime_minutes, storyline, raw_genres, labels, poster_sha256, poster_source
     FROM movie ORDER BY imdb_id, title`,
  );

test('year and runtime parsing', () => {
  assert.equal(parseYear('2001'), 2001);
  assert.equal(parseYear('(1999)'), 1999);
  assert.equal(parseYear('2001–2003'), 2001);
  assert.equal(parseYear(''), null);
  assert.throws(() => parseYear('next year'), /unparseable year/);
  assert.equal(parseRuntime('1h 52min'), 112);
  assert.equal(parseRuntime('112 min'), 112);
  assert.equal(parseRuntime('2h'), 120);
  assert.equal(parseRuntime('45m'), 45);
  assert.equal(parseRuntime(''), null);
  assert.throws(() => parseRuntime('long'), /unparseable runtime/);
});

for (const kind of DB_KINDS) {
  describe(`import on ${kind}`, () => {
    test('sample.csv imports 400 movies, labels as the data README says, and a re-import changes nothing', async () => {
      const app = await openApp(kind);
      const first = await app.importer.importCsv(SAMPLE_CSV, { progress: false });
      assert.deepEqual([first.imported, first.updated, first.unchanged, first.skipped.length], [400, 0, 0, 0]);
      assert.equal(await app.movies.count(), 400);
      const before = await movieState(app);
      const m = await app.movies.get(undefined, before[0].imdb_id);
      assert.ok(m && m.posterSha256 && fs.existsSync(app.posters.fileFor(m.posterSha256, m.posterMime!)), 'poster copied into the data dir');
      // Labels follow the 13-label mapping of the raw genres.
      const sci = await app.db.dataSource.query(`SELECT count(*)::int AS n FROM movie WHERE 'Sci-Fi' = ANY(raw_genres) AND NOT ('SCIFI' = ANY(labels))`);
      assert.equal(sci[0].n, 0);
      const others = await app.db.dataSource.query(`SELECT raw_genres, labels FROM movie WHERE 'Animation' = ANY(raw_genres) LIMIT 1`);
      if (others.length) assert.ok(others[0].labels.includes('OTHERS'));

      const second = await app.importer.importCsv(SAMPLE_CSV, { progress: false });
      assert.deepEqual([second.imported, second.updated, second.unchanged, second.skipped.length], [0, 0, 400, 0]);
      assert.deepEqual(await movieState(app), before);
    });

    test('bad rows are skipped with line and reason; good rows around them import; nothing stored is lost', async () => {
      const app = await openApp(kind);
      const dir = tmpDir();
      const good = path.join(POSTERS_DIR, 'images', fs.readdirSync(path.join(POSTERS_DIR, 'images'))[0]);
      const jpeg = fs.readFileSync(good);
      fs.writeFileSync(path.join(dir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
      fs.writeFileSync(path.join(dir, 'notes.jpg'), 'this is not an image at all\n');
      // 7000 x 7000 = 49 MP: over the 40 MP limit, yet a small file (one flat colour).
      await sharp({ create: { width: 7000, height: 7000, channels: 3, background: '#808080' } })
        .png()
        .toFile(path.join(dir, 'huge.png'));
      fs.writeFileSync(path.join(dir, 'good.jpg'), jpeg);
      const csv = [
        'imdb_id,name,year,age,time,genre,storyline,img_url',
        'tt9000001,Good One,2001,PG-13,1h 52min,"Comedy, Romance",A story,good.jpg', // line 2
        'tt9000002,,2002,,,Drama,,good.jpg', // 3: no name
        'tt9000003,Bad Year,someday,,,Drama,,good.jpg', // 4
        'tt9000004,Missing Image,2004,,,Drama,,nowhere.jpg', // 5
        'tt9000005,Truncated,2005,,,Drama,,truncated.jpg', // 6
        'tt9000006,Not An Image,2006,,,Drama,,notes.jpg', // 7
        'tt9000007,Huge,2007,,,Drama,,huge.png', // 8
        'tt9000008,Broken "quote,2008,,,Drama,,good.jpg', // 9: malformed CSV
        'tt9000009,Good Two,2009,R,95 min,Sci-Fi|Western,,good.jpg', // 10
        ',No Imdb Id,2010,,,Documentary,,good.jpg', // 11
      ].join('\n');
      const file = path.join(dir, 'bad.csv');
      fs.writeFileSync(file, csv + '\n');
      const s = await app.importer.importCsv(file, { progress: false });
      const reasons = Object.fromEntries(s.skipped.map((r) => [r.line, r.reason]));
      assert.deepEqual(reasons, {
        3: 'NO_NAME',
        4: 'BAD_YEAR',
        5: 'IMAGE_MISSING',
        6: 'IMAGE_CORRUPT',
        7: 'NOT_AN_IMAGE',
        8: 'IMAGE_TOO_LARGE',
        9: 'MALFORMED_CSV',
      });
      assert.equal(s.imported, 3);
      const one = (await app.movies.get(undefined, 'tt9000001'))!;
      assert.deepEqual([one.ageRating, one.runtimeMinutes, one.rawGenres, one.labels], ['PG-13', 112, ['Comedy', 'Romance'], ['COMEDY', 'ROMANCE']]);
      const two = (await app.movies.get(undefined, 'tt9000009'))!;
      assert.deepEqual([two.runtimeMinutes, two.labels], [95, ['SCIFI', 'OTHERS']]);
      // A second run of the same broken file skips the same rows and leaves the stored ones alone.
      const again = await app.importer.importCsv(file, { progress: false });
      assert.deepEqual([again.imported, again.unchanged, again.skipped.length], [0, 3, 7]);
      assert.equal(await app.movies.count(), 3);
    });
  });
}

test('an import killed half way and re-run ends in the same state as one clean run', async () => {
  const killedDir = tmpDir();
  const cleanDir = tmpDir();
  const env = { ...process.env, MARQUEE_MODELS_DIR: MODELS_DIR, DATABASE_URL: '', MARQUEE_IMPORT_BATCH: '50', CI: 'true' };
  const runCli = (dataDir: string, killAfterCommits?: number) =>
    new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'import', SAMPLE_CSV], { env: { ...env, MARQUEE_DATA_DIR: dataDir, MARQUEE_PROGRESS_INTERVAL_MS: '0' } });
      let out = '';
      let commits = 0;
      const onData = (d: Buffer) => {
        out += d.toString();
        commits = (out.match(/^import \d+/gm) ?? []).length;
        if (killAfterCommits !== undefined && commits >= killAfterCommits && !child.killed) child.kill('SIGKILL');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code, signal) => resolve({ code, signal, out }));
    });
  const killed = await runCli(killedDir, 2);
  assert.equal(killed.signal, 'SIGKILL', `the first run should have been killed:\n${killed.out}`);
  const resumed = await runCli(killedDir);
  assert.equal(resumed.code, 0, resumed.out);
  const m = /imported (\d+), updated (\d+), unchanged (\d+), skipped (\d+)/.exec(resumed.out);
  assert.ok(m, resumed.out);
  assert.ok(Number(m[3]) >= 100, `the resumed run found the committed batches unchanged: ${m[0]}`);
  assert.equal(Number(m[1]) + Number(m[3]), 400);
  const clean = await runCli(cleanDir);
  assert.equal(clean.code, 0, clean.out);

  const state = async (dataDir: string) => {
    const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: dataDir, DATABASE_URL: '' }));
    try {
      return await movieState(app);
    } finally {
      await app.close();
    }
  };
  assert.deepEqual(await state(killedDir), await state(cleanDir));
});
