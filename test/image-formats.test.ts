/** One list of accepted poster formats and one size limit: what the poster store keeps, the embedder can decode. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { AppError } from '../src/errors';
import { loadBackbone } from '../src/ml/backbone/manifest';
import { MAX_IMAGE_BYTES, POSTER_FORMATS } from '../src/ml/image/formats';
import { preprocess, preprocessSpec } from '../src/ml/image/preprocess';
import { PosterStore } from '../src/services/poster-store';

const spec = preprocessSpec(loadBackbone());
const image = () => sharp({ create: { width: 64, height: 96, channels: 3, background: '#446688' } });
const reasonOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof AppError ? e.reason : String(e)),
  );

test('every accepted format is stored and decoded; TIFF is refused by both (it used to be stored, then never embedded)', async () => {
  const samples: Record<string, Buffer> = {
    jpeg: await image().jpeg().toBuffer(),
    png: await image().png().toBuffer(),
    webp: await image().webp().toBuffer(),
    gif: await image().gif().toBuffer(),
    avif: await image().avif().toBuffer(),
  };
  assert.deepEqual(
    Object.keys(samples),
    POSTER_FORMATS.map((f) => f.name),
  );
  for (const f of POSTER_FORMATS) {
    assert.equal(await PosterStore.validate(samples[f.name]), f.mime, f.name);
    assert.equal((await preprocess(samples[f.name], spec)).format, f.name);
  }
  const tiff = await image().tiff().toBuffer();
  assert.equal(await reasonOf(PosterStore.validate(tiff)), 'UNSUPPORTED_FORMAT');
  assert.equal(await reasonOf(preprocess(tiff, spec)), 'NOT_AN_IMAGE');
});

test('one byte limit: an image over MAX_IMAGE_BYTES is refused by the store and the decoder alike', async () => {
  const png = await image().png().toBuffer();
  const big = Buffer.concat([png, Buffer.alloc(MAX_IMAGE_BYTES + 1 - png.length)]);
  assert.equal(await reasonOf(PosterStore.validate(big)), 'PAYLOAD_TOO_LARGE');
  assert.equal(await reasonOf(preprocess(big, spec)), 'IMAGE_TOO_LARGE');
  const fits = Buffer.concat([png, Buffer.alloc(MAX_IMAGE_BYTES - png.length)]);
  assert.notEqual(await reasonOf(preprocess(fits, spec)), 'IMAGE_TOO_LARGE');
});

test('a stored poster is served under the name its record carries', () => {
  const store = new PosterStore('/data');
  const sha = 'ab'.repeat(32);
  const name = PosterStore.fileName(sha, 'image/png');
  assert.equal(name, `${sha}.png`);
  assert.deepEqual(store.servedFile(name), { path: store.fileFor(sha, 'image/png'), mime: 'image/png', sha256: sha });
  assert.equal(store.servedFile(`${sha}.tiff`), undefined);
  assert.equal(store.servedFile('../../etc/passwd'), undefined);
});
