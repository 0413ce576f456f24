import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { PosterOcr } from '../src/ml/text/poster-ocr';
import { trainSparseLogistic, predictSparseLogistic } from '../src/ml/text/sparse-logistic';
import { buildVocabulary, normaliseText, TextVectorizer, textTerms } from '../src/ml/text/text-features';
import { textMemberArtifact } from '../src/ml/genre/training/trainer';
import { fuseText, TextScorer } from '../src/ml/text/text-fusion';
import { POSTERS_DIR } from './support';

const poster = (id: string) => path.join(POSTERS_DIR, 'images', `${id}.jpg`);

test('OCR reads the titles of real posters', async () => {
  const ocr = await PosterOcr.create();
  try {
    const cases: Array<[string, string[]]> = [
      ['tt0069049', ['other', 'wind']], // The Other Side of the Wind (the four largest boxes)
      ['tt0102484', ['hampshire']], // Murder in New Hampshire: The Pamela Wojas Smart Story
      ['tt0113135', ['future', 'war']], // Future War
    ];
    for (const [id, words] of cases) {
      const r = await ocr.read(poster(id));
      const text = normaliseText(r.text);
      for (const w of words)
        assert.ok(
          text.split(' ').some((t) => t.includes(w)),
          `${id}: "${w}" in ${JSON.stringify(r.text)}`,
        );
      for (const l of r.lines) {
        assert.ok(l.confidence >= ocr.options.minConfidence);
        assert.ok(l.box.x >= 0 && l.box.y >= 0 && l.box.x + l.box.width <= 182 && l.box.y + l.box.height <= 268, 'boxes lie on the poster');
      }
    }
    await assert.rejects(ocr.read(Buffer.from('not an image')));
  } finally {
    await ocr.close();
  }
});

test('text features: word, bigram and character n-grams; TF-IDF rows are unit length; unknown text is empty', () => {
  assert.deepEqual(textTerms('Hi YOU').slice(0, 3), ['w:hi', 'b:hi you', 'c: hi']);
  const vocab = buildVocabulary(['night of horror', 'horror night', 'a love story', 'love actually'], { minDf: 2 });
  assert.ok(vocab.terms.includes('w:horror') && vocab.terms.includes('w:love'));
  assert.ok(!vocab.terms.includes('w:story'), 'terms under minDf are dropped');
  const v = new TextVectorizer(vocab);
  const row = v.transform('HORROR!! night');
  assert.ok(Math.abs(row.value.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
  assert.equal(v.transform('zzzz qqqq').index.length, 0);
});

test('sparse logistic regression learns which words mean which label, and fusion leaves text-less posters alone', () => {
  const docs = ['blood scream night', 'scream killer', 'night blood', 'love kiss', 'kiss wedding love', 'wedding bride', 'blood bride', 'love night'];
  const labels = [
    [1, 0],
    [1, 0],
    [1, 0],
    [0, 1],
    [0, 1],
    [0, 1],
    [1, 1],
    [0, 1],
  ];
  const vocab = buildVocabulary(docs, { minDf: 1 });
  const v = new TextVectorizer(vocab);
  const rows = docs.map((d) => v.transform(d));
  const Y = Uint8Array.from(labels.flat());
  const r = trainSparseLogistic({ rows, Y }, { rows, Y }, v.dim, 2, { maxEpochs: 200, patience: 200, learningRate: 0.05, batchSize: 4 });
  const p = predictSparseLogistic(r.model, [v.transform('scream blood'), v.transform('kiss love')]);
  assert.ok(p[0] > 0.5 && p[1] < 0.5, `horror words -> label 0: ${Array.from(p.slice(0, 2)).join(', ')}`);
  assert.ok(p[2] < 0.5 && p[3] > 0.5, `romance words -> label 1: ${Array.from(p.slice(2)).join(', ')}`);

  const scorer = new TextScorer(textMemberArtifact(vocab, r.model, 1), 2);
  const image = Float32Array.from([0.3, 0.6, 0.3, 0.6]);
  const fused = scorer.fuse(image, ['scream blood', null]);
  assert.ok(fused[0] > 0.3 && fused[1] < 0.6, 'text moves the first poster towards label 0');
  assert.deepEqual(Array.from(fused.subarray(2)), Array.from(image.subarray(2)), 'no text: image probabilities unchanged');
  assert.deepEqual(Array.from(fuseText(Float32Array.from([0.2]), new Float32Array(1), 1, 5)), [Math.fround(0.2)]);
});
