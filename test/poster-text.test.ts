/**
 * Poster text end to end: `marquee ocr`'s service reads real posters into poster_text (PGlite, and
 * PostgreSQL when TEST_DATABASE_URL is set), resumes and re-runs as a no-op, and a deployment can turn
 * OCR off.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { normaliseText } from '../src/ml/text/text-features';
import { cleanupAll, DB_KINDS, openApp, sampleSubset, tmpDir } from './support';

after(cleanupAll);

for (const kind of DB_KINDS) {
  describe(`poster text on ${kind}`, () => {
    test('ocr reads every stored poster once, stores its lines and text, and resumes', async () => {
      const app = await openApp(kind);
      await app.importer.importCsv(sampleSubset(tmpDir(), 6), { progress: false });
      const first = await app.posterTexts.readMissing({ limit: 2, progress: false });
      assert.equal(first.read, 2, 'a limited (or killed) run stores what it read');
      const rest = await app.posterTexts.readMissing({ progress: false });
      assert.deepEqual([rest.read, rest.failed.length], [4, 0]);
      assert.equal((await app.posterTexts.readMissing({ progress: false })).read, 0, 'nothing left to read');
      const rows = await app.db.dataSource.query<Array<{ movie_id: number; engine: string; text: string; lines: Array<{ text: string; confidence: number }> }>>(
        'SELECT movie_id, engine, text, lines FROM poster_text ORDER BY movie_id',
      );
      assert.equal(rows.length, 6);
      for (const r of rows) {
        assert.equal(r.engine, app.posterTexts.engine);
        assert.equal(r.text, r.lines.map((l) => l.text.trim()).join('\n'));
        for (const l of r.lines) assert.ok(l.confidence >= 0.5 && l.confidence <= 1);
      }
      assert.ok(rows.filter((r) => normaliseText(r.text).length >= 3).length >= 3, 'most posters carry readable text');
      const texts = await app.posterTexts.texts(rows.map((r) => r.movie_id));
      assert.equal(texts.size, 6);
    });
  });
}

test('MARQUEE_OCR=off: OCR is refused with a reason and never started', async () => {
  const off = await openApp('pglite', (c) => (c.ocr.enabled = false));
  await assert.rejects(off.posterTexts.readMissing({ progress: false }), (e: { reason?: string }) => e.reason === 'OCR_DISABLED');
  assert.equal(off.posterTexts.started, false);
});
