import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GENRES } from '../src/ml/genre/labels';
import { gaussian, mulberry32 } from '../src/ml/math/random';
import { predictLayersTf, trainHead } from '../src/ml/genre/training/genre-head';
import { loadTf } from '../src/ml/genre/training/tf';
import { GenrePredictor, type GenreModelArtifact } from '../src/ml/genre/genre-predictor';
import { tunePerClassThresholds, tuneGlobalThreshold } from '../src/ml/genre/training/thresholds';
import { multilabelMetrics, binarize } from '../src/ml/genre/training/metrics';
import { trainGenreModels, evaluateArtifact, formatReport } from '../src/ml/genre/training/trainer';

const L = GENRES.length;

/** Learnable synthetic data: each label has a prototype direction; x = sum of its labels' prototypes + noise, L2-normalised. */
function synth(n: number, dim: number, seed: number, noise = 0.5) {
  const rng = mulberry32(seed);
  const protoRng = mulberry32(1234); // same prototypes for every sample set
  const protos = Array.from({ length: L }, () => Float32Array.from({ length: dim }, () => gaussian(protoRng) / Math.sqrt(dim)));
  const prev = [0.13, 0.07, 0.3, 0.09, 0.12, 0.46, 0.05, 0.1, 0.05, 0.18, 0.14, 0.06, 0.13];
  const X = new Float32Array(n * dim);
  const Y = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) {
    let any = false;
    for (let j = 0; j < L; j++)
      if (rng() < prev[j]) {
        Y[i * L + j] = 1;
        any = true;
      }
    if (!any) Y[i * L + Math.floor(rng() * L)] = 1;
    let s = 0;
    for (let k = 0; k < dim; k++) {
      let v = (noise * gaussian(rng)) / Math.sqrt(dim);
      for (let j = 0; j < L; j++) if (Y[i * L + j]) v += protos[j][k];
      X[i * dim + k] = v;
      s += v * v;
    }
    for (let k = 0; k < dim; k++) X[i * dim + k] /= Math.sqrt(s);
  }
  return { X, Y, n, dim };
}

/** Macro F1 of always predicting every label (the "chance" level for F1). */
function allPositiveF1(Y: Uint8Array, n: number): number {
  return multilabelMetrics(Y, new Uint8Array(n * L).fill(1), n, GENRES).f1Macro;
}

test('per-class threshold tuning finds the separating threshold; global tuning maximises macro F1', () => {
  // label 0 separable between 0.2 and 0.3, label 1 has no positives
  const probs = Float32Array.from([0.3, 0.9, 0.35, 0.1, 0.2, 0.5, 0.15, 0.2]);
  const Y = Uint8Array.from([1, 0, 1, 0, 0, 0, 0, 0]);
  const t = tunePerClassThresholds(probs, Y, 4, 2);
  assert.ok(t.thresholds[0] > 0.2 && t.thresholds[0] <= 0.3, String(t.thresholds[0]));
  assert.equal(t.f1[0], 1);
  assert.equal(t.thresholds[1], 0.5);
  assert.equal(t.f1[1], 0);
  const g = tuneGlobalThreshold(probs, Y, 4, 2);
  assert.ok(g.threshold > 0.2 && g.threshold <= 0.3);
  assert.equal(g.f1Macro, 0.5);
});

test('soft-F1 head learns a synthetic task; artifact JSON round trip predicts like TF.js', async () => {
  const tf = await loadTf();
  const dim = 48;
  const tr = synth(1500, dim, 1);
  const va = synth(400, dim, 2);
  const te = synth(600, dim, 3);
  const head = await trainHead(
    tf,
    { Xtrain: tr.X, Ytrain: tr.Y, ntrain: tr.n, Xval: va.X, Yval: va.Y, nval: va.n, dim, numLabels: L },
    { hidden: [32], maxEpochs: 30, patience: 8, learningRate: 3e-3, batchSize: 128, seed: 5 },
  );
  assert.ok(head.bestEpoch >= 1);
  const probsTf = predictLayersTf(tf, head.layers, te.X, te.n);

  const th = tunePerClassThresholds(predictLayersTf(tf, head.layers, va.X, va.n), va.Y, va.n, L).thresholds;
  assert.equal(th.length, L);
  assert.ok(th.every((t) => t > 0 && t < 1));
  const m = multilabelMetrics(te.Y, binarize(probsTf, te.n, th), te.n, GENRES);
  const chance = allPositiveF1(te.Y, te.n);
  assert.ok(m.f1Macro > 0.75 && m.f1Macro > chance + 0.4, `macro F1 ${m.f1Macro} vs chance ${chance}`);

  const artifact: GenreModelArtifact = {
    format: 'marquee.genre-model',
    version: 1,
    type: 'mlp',
    embeddingDim: dim,
    labels: [...GENRES],
    inputNormalization: 'l2',
    members: [{ name: 'mlp', weight: 1, layers: head.layers }],
    thresholds: th,
    thresholdScheme: 'per-class',
  };
  const predictor = GenrePredictor.fromArtifact(JSON.parse(JSON.stringify(artifact)));
  const probsJs = predictor.predict(te.X, te.n);
  let maxDiff = 0;
  for (let i = 0; i < probsJs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probsJs[i] - probsTf[i]));
  assert.ok(maxDiff < 1e-5, `max |TF - JS| = ${maxDiff}`);
  assert.deepEqual([...binarize(probsJs, te.n, th)], [...binarize(probsTf, te.n, th)]);
  assert.deepEqual(predictor.thresholds, th);
  const labels = predictor.predictLabels(te.X.subarray(0, dim), 1);
  assert.equal(labels.length, 1);
  assert.ok(labels[0].every((l) => (GENRES as readonly string[]).includes(l)));

  assert.throws(() => GenrePredictor.fromArtifact({ ...artifact, thresholds: [0.5] }), /thresholds/);
  assert.throws(() => predictor.predict(new Float32Array(dim + 1), 1), /embeddings/);
});

test('trainGenreModels: split, all models and schemes, validation-chosen deployable artifact, evaluateArtifact', async () => {
  const dim = 32;
  const data = synth(2500, dim, 11, 0.8);
  const stages = new Set<string>();
  const res = await trainGenreModels(
    { X: data.X, dim, Y: data.Y, n: data.n },
    {
      seed: 3,
      epochs: 20,
      head: { hidden: [32], learningRate: 3e-3, batchSize: 128 },
      logistic: { maxEpochs: 20, learningRate: 3e-3 },
      knnK: [5, 20],
      onProgress: (p) => stages.add(p.stage),
    },
  );
  const { report, artifact, split } = res;
  assert.deepEqual([...stages].sort(), ['knn', 'logistic', 'mlp', 'models', 'split']);
  assert.equal(split.train.length + split.val.length + split.test.length, data.n);
  assert.deepEqual(report.split, { name: 'random-3', seed: 3, train: split.train.length, val: split.val.length, test: split.test.length });
  assert.ok(Math.abs(split.train.length - 0.7 * data.n) < 0.02 * data.n);
  const models = new Set(report.rows.map((r) => r.model));
  assert.ok(models.has('mlp') && models.has('logreg') && models.has('mlp+logreg') && [...models].some((m) => m.startsWith('knn')));
  const schemes = new Set(report.rows.map((r) => r.scheme));
  assert.deepEqual([...schemes], ['global-0.25', 'global-0.5', 'global-0.75', 'per-class']);
  assert.equal(report.rows.length, models.size * 4);

  // chosen = deployable row with the best validation macro F1 (among rows under the Hamming cap when any)
  const dep = report.rows.filter((r) => r.deployable);
  const pool = dep.some((r) => r.valHamming <= 0.2) ? dep.filter((r) => r.valHamming <= 0.2) : dep;
  const bestVal = Math.max(...pool.map((r) => r.valF1Macro));
  const chosenRow = report.rows.find((r) => r.model === report.chosen.model && r.scheme === report.chosen.scheme)!;
  assert.ok(chosenRow.deployable);
  assert.equal(chosenRow.valF1Macro, bestVal);
  assert.ok(chosenRow.f1Macro > allPositiveF1(data.Y, data.n) + 0.3, `test macro F1 ${chosenRow.f1Macro}`);
  assert.equal(report.perClass.length, L);

  // stored artifact reproduces the reported test metrics through the plain-JS predictor
  const stored = JSON.parse(JSON.stringify(artifact)) as GenreModelArtifact;
  assert.ok(JSON.stringify(stored).length < 10 * 1024 * 1024);
  const Xte = new Float32Array(split.test.length * dim);
  const Yte = new Uint8Array(split.test.length * L);
  split.test.forEach((r, i) => {
    Xte.set(data.X.subarray(r * dim, (r + 1) * dim), i * dim);
    Yte.set(data.Y.subarray(r * L, (r + 1) * L), i * L);
  });
  const ev = evaluateArtifact(stored, Xte, Yte, split.test.length);
  assert.ok(Math.abs(ev.metrics.f1Macro - chosenRow.f1Macro) < 2e-3, `${ev.metrics.f1Macro} vs ${chosenRow.f1Macro}`);
  assert.ok(Math.abs(ev.metrics.hamming - chosenRow.hamming) < 1e-3);
  assert.equal(ev.rows.length, 4);
  assert.equal(ev.scheme, report.chosen.scheme);

  const text = formatReport(report);
  assert.match(text, /F1 macro/);
  assert.match(text, /Hamming/);
  assert.match(text, /DRAMA/);
});

test('trainGenreModels with poster texts: a text model, image+text fusions chosen on validation, an explicit split', async () => {
  const dim = 32;
  // Images that say little (heavy noise), texts that name some genres: fusion must win on validation.
  const data = synth(1500, dim, 5, 3);
  const rng = mulberry32(9);
  const words = ['fight', 'quest', 'laugh', 'heist', 'true', 'tears', 'magic', 'scream', 'clue', 'chase', 'kiss', 'space', 'misc'];
  const texts = Array.from({ length: data.n }, (_, i) => {
    if (rng() < 0.2) return null; // no OCR text for some posters
    const w: string[] = [];
    for (let j = 0; j < L; j++) if (data.Y[i * L + j] && rng() < 0.7) w.push(words[j]);
    return [...w, 'starring', 'someone'].join(' ');
  });
  const order = Array.from({ length: data.n }, (_, i) => i);
  const split = {
    name: 'first-1000',
    train: Int32Array.from(order.slice(0, 1000)),
    val: Int32Array.from(order.slice(1000, 1250)),
    test: Int32Array.from(order.slice(1250)),
  };
  const res = await trainGenreModels(
    { X: data.X, dim, Y: data.Y, n: data.n, texts },
    {
      seed: 3,
      epochs: 10,
      head: { hidden: [16], learningRate: 3e-3, batchSize: 128 },
      logistic: { maxEpochs: 10, learningRate: 3e-3 },
      knnK: [],
      split,
      text: { vocabulary: { minDf: 2 } },
    },
  );
  const { report, artifact } = res;
  assert.deepEqual(report.split, { name: 'first-1000', seed: 3, train: 1000, val: 250, test: 250 });
  assert.deepEqual(Array.from(res.split.test), order.slice(1250));
  const models = new Set(report.rows.map((r) => r.model));
  assert.ok(models.has('text') && [...models].some((m) => m.endsWith('+text0.5')));
  assert.ok(report.chosen.model.includes('+text'), `chosen ${report.chosen.model}`);
  const best = (pred: (m: string) => boolean) => Math.max(...report.rows.filter((r) => pred(r.model)).map((r) => r.f1Macro));
  assert.ok(best((m) => m.includes('+text')) > best((m) => m === 'mlp+logreg') + 0.05, 'text helps on test too');
  // The artifact carries the text model; a poster without text is scored from its image alone.
  const predictor = GenrePredictor.fromArtifact(JSON.parse(JSON.stringify(artifact)));
  assert.ok(predictor.usesText);
  const x = data.X.subarray(0, dim);
  const imageOnly = predictor.predict(x, 1);
  assert.deepEqual(Array.from(predictor.predict(x, 1, [null])), Array.from(imageOnly));
  assert.notDeepEqual(Array.from(predictor.predict(x, 1, ['scream scream clue'])), Array.from(imageOnly));
  const bad = { ...artifact, text: { ...artifact.text!, bias: [1] } };
  assert.throws(() => GenrePredictor.fromArtifact(bad), /text/);
});
