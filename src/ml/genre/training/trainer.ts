/**
 * Genre-model training core (pure ML: no database, no GraphQL).
 * Deterministic 70/10/20 iterative-stratification split, soft-F1 MLP head + one-vs-rest logistic
 * regression + cosine kNN (+ MLP/LR probability-average ensemble), per-class thresholds tuned on
 * validation, test evaluation under global 0.25/0.5/0.75 and tuned per-class schemes, and selection of
 * the deployable model on VALIDATION macro F1 only.
 */
import { mulberry32, shuffleInPlace } from '../../math/random';
import { compactArray, GenrePredictor, type ArtifactMember, type GenreModelArtifact, type GenreModelType } from '../genre-predictor';
import { GENRES } from '../labels';
import { DEFAULT_HEAD_OPTIONS, predictLayersTf, trainHead, type HeadData, type HeadOptions, type TrainedHead } from './genre-head';
import { chooseK, DEFAULT_K_GRID, knnNeighbours, knnScores } from './knn';
import { DEFAULT_LOGISTIC_OPTIONS, trainLogistic, type LogisticOptions } from './logistic';
import { binarize, multilabelMetrics, type ClassMetrics, type MetricsReport } from './metrics';
import { iterativeStratifiedSplit } from './split';
import { loadTf } from './tf';
import { tunePerClassThresholds } from './thresholds';
import { trainSparseLogistic, type SparseLogisticOptions } from '../../text/sparse-logistic';
import { buildVocabulary, TextVectorizer, type TextVocabulary, type VocabularyOptions } from '../../text/text-features';
import { fuseText, textShift, type TextMemberArtifact } from '../../text/text-fusion';
import type { SparseLogisticModel } from '../../text/sparse-logistic';

export const SPLIT_FRACTIONS = [0.7, 0.1, 0.2] as const;
export const GLOBAL_SCHEMES = [0.25, 0.5, 0.75] as const;
/** Deployable models must not exceed this validation Hamming loss when any candidate meets it. */
export const MAX_HAMMING = 0.2;

export interface TrainingInput {
  /** n x dim row-major embeddings (L2-normalised). */
  X: Float32Array;
  dim: number;
  /** n x 13 multi-hot labels in GENRES order. */
  Y: Uint8Array;
  n: number;
  /** The text read from each poster (null when it was not read): adds text models and image+text fusions. */
  texts?: ReadonlyArray<string | null>;
}

/** Rows of each part, e.g. the era split (genre/training/era-split.ts); `name` is reported. */
export interface ExplicitSplit {
  name: string;
  train: Int32Array;
  val: Int32Array;
  test: Int32Array;
}

export interface TextTrainingOptions {
  vocabulary: Partial<VocabularyOptions>;
  logistic: Partial<SparseLogisticOptions>;
  /** Fusion weights tried on validation (see text/text-fusion.ts). */
  weights: number[];
}

export const DEFAULT_TEXT_FUSION_WEIGHTS = [0.25, 0.5, 0.75, 1];
/** kNN blend weights tried on validation: p = (1 - w) p_model + w p_knn. */
export const DEFAULT_KNN_BLEND_WEIGHTS = [0.2, 0.35, 0.5];

export interface TrainingProgress {
  stage: string;
  done: number;
  total: number;
}

export interface TrainingOptions {
  /** Split + training seed (default 42). */
  seed?: number;
  /** Max epochs of the MLP head (early stopping usually ends sooner). */
  epochs?: number;
  onProgress?: (p: TrainingProgress) => void;
  /** Overrides of the MLP head hyper-parameters. */
  head?: Partial<HeadOptions>;
  logistic?: Partial<LogisticOptions>;
  /** k grid searched on validation for the kNN baseline; [] skips kNN. */
  knnK?: number[];
  /** Extra embeddings of the same n posters (e.g. a flipped view) added as training rows only. */
  extraTrainViews?: Float32Array[];
  /** Train/val/test rows to use instead of the seeded random 70/10/20 split (e.g. the era split). */
  split?: ExplicitSplit;
  text?: Partial<TextTrainingOptions>;
  /** Weights of the kNN blends tried on validation; [] skips them. */
  knnBlendWeights?: number[];
}

export interface ReportRow {
  model: string;
  scheme: string;
  /** Test-split metrics. */
  f1Macro: number;
  f1Micro: number;
  precisionMacro: number;
  recallMacro: number;
  hamming: number;
  /** Validation macro F1 / Hamming used for selection (per-class scheme: 2-fold cross-fitted on validation). */
  valF1Macro: number;
  valHamming: number;
  deployable: boolean;
}

export interface TrainingReport {
  rows: ReportRow[];
  /** Per-class test metrics of the chosen model under its scheme. */
  perClass: ClassMetrics[];
  chosen: { model: string; scheme: string; valF1Macro: number; thresholds: number[] };
  /** `name` is absent in reports stored before the era split existed (they are random-<seed>). */
  split: { name?: string; seed: number; train: number; val: number; test: number };
  models: Record<string, Record<string, unknown>>;
  trainingMs: number;
}

/** The row of the chosen model under its threshold scheme: a version's headline metrics. */
export function chosenRow(report: Partial<Pick<TrainingReport, 'rows' | 'chosen'>> | null | undefined): ReportRow | null {
  const chosen = report?.chosen;
  return report?.rows?.find((r) => r.model === chosen?.model && r.scheme === chosen?.scheme) ?? null;
}

export interface TrainingResult {
  artifact: GenreModelArtifact;
  report: TrainingReport;
  split: { seed: number; train: Int32Array; val: Int32Array; test: Int32Array };
  trainingMs: number;
}

/** A trained text model as an artifact member (floats shortened to what float32 keeps). */
export function textMemberArtifact(vocabulary: TextVocabulary, model: SparseLogisticModel, weight: number): TextMemberArtifact {
  return {
    vocabulary: { terms: vocabulary.terms, idf: compactArray(vocabulary.idf) },
    weights: compactArray(model.weights),
    bias: compactArray(model.bias),
    weight,
  };
}

/**
 * The row chosen on validation among `rows`: the best validation macro F1 among those within the
 * validation Hamming bound (all of them when none is); the first of equals wins. Null for no rows.
 */
export function chooseRow(rows: readonly ReportRow[]): ReportRow | null {
  if (rows.length === 0) return null;
  const okHamming = rows.filter((r) => r.valHamming <= MAX_HAMMING);
  const pool = okHamming.length > 0 ? okHamming : rows;
  return pool.reduce((a, b) => (b.valF1Macro > a.valF1Macro + 1e-9 ? b : a));
}

function gatherRows<T extends Float32Array | Uint8Array>(src: T, width: number, idx: Int32Array, make: (len: number) => T): T {
  const out = make(idx.length * width);
  for (let i = 0; i < idx.length; i++) out.set(src.subarray(idx[i] * width, (idx[i] + 1) * width), i * width);
  return out;
}

function schemeThresholds(scheme: string, L: number, tuned: number[]): number[] {
  if (scheme === 'per-class') return tuned;
  const t = Number(scheme.replace('global-', ''));
  return new Array<number>(L).fill(t);
}

/** Validation metrics of per-class thresholds without fitting and scoring on the same rows: 2-fold cross-fitting. */
function crossFittedValMetrics(probs: Float32Array, Y: Uint8Array, n: number, L: number, seed: number): MetricsReport {
  const order = shuffleInPlace(
    Int32Array.from({ length: n }, (_, i) => i),
    mulberry32(seed ^ 0x5eed),
  );
  const halves = [order.slice(0, n >> 1), order.slice(n >> 1)];
  const pred = new Uint8Array(n * L);
  for (let h = 0; h < 2; h++) {
    const fit = halves[h],
      apply = halves[1 - h];
    const t = tunePerClassThresholds(
      gatherRows(probs, L, fit, (m) => new Float32Array(m)),
      gatherRows(Y, L, fit, (m) => new Uint8Array(m)),
      fit.length,
      L,
    ).thresholds;
    for (const i of apply) for (let j = 0; j < L; j++) pred[i * L + j] = probs[i * L + j] >= t[j] ? 1 : 0;
  }
  return multilabelMetrics(Y, pred, n, GENRES);
}

interface Candidate {
  name: string;
  deployable: boolean;
  valProbs: Float32Array;
  testProbs: Float32Array;
  members?: ArtifactMember[];
  type?: GenreModelType;
  text?: TextMemberArtifact;
}

export async function trainGenreModels(input: TrainingInput, opts: TrainingOptions = {}): Promise<TrainingResult> {
  const t0 = Date.now();
  const { X, dim, Y, n } = input;
  const L = GENRES.length;
  if (X.length !== n * dim) throw new RangeError(`X has ${X.length} values, expected ${n} x ${dim}`);
  if (Y.length !== n * L) throw new RangeError(`Y has ${Y.length} values, expected ${n} x ${L}`);
  const seed = opts.seed ?? 42;
  const progress = opts.onProgress ?? (() => undefined);
  const maxEpochs = opts.epochs ?? opts.head?.maxEpochs ?? DEFAULT_HEAD_OPTIONS.maxEpochs;
  const kGrid = opts.knnK ?? DEFAULT_K_GRID;
  const stagesTotal = 5;
  let stage = 0;

  progress({ stage: 'split', done: 0, total: 1 });
  const splitName = opts.split?.name ?? `random-${seed}`;
  const [train, val, test] = opts.split ? [opts.split.train, opts.split.val, opts.split.test] : iterativeStratifiedSplit(Y, n, L, [...SPLIT_FRACTIONS], seed);
  if (train.length === 0 || val.length === 0 || test.length === 0)
    throw new RangeError(`split ${splitName} has an empty part (${train.length}/${val.length}/${test.length})`);
  progress({ stage: 'split', done: 1, total: 1 });

  let Xtr = gatherRows(X, dim, train, (m) => new Float32Array(m));
  let Ytr = gatherRows(Y, L, train, (m) => new Uint8Array(m));
  const Xv = gatherRows(X, dim, val, (m) => new Float32Array(m));
  const Yv = gatherRows(Y, L, val, (m) => new Uint8Array(m));
  const Xte = gatherRows(X, dim, test, (m) => new Float32Array(m));
  const Yte = gatherRows(Y, L, test, (m) => new Uint8Array(m));
  const XtrBase = Xtr,
    YtrBase = Ytr;
  let ntr = train.length;
  if (opts.extraTrainViews?.length) {
    const views = opts.extraTrainViews;
    const big = new Float32Array(ntr * dim * (1 + views.length));
    const bigY = new Uint8Array(ntr * L * (1 + views.length));
    big.set(Xtr);
    bigY.set(Ytr);
    views.forEach((V, v) => {
      if (V.length !== n * dim) throw new RangeError('extra view has the wrong size');
      big.set(
        gatherRows(V, dim, train, (m) => new Float32Array(m)),
        (v + 1) * ntr * dim,
      );
      bigY.set(Ytr, (v + 1) * ntr * L);
    });
    Xtr = big;
    Ytr = bigY;
    ntr *= 1 + views.length;
  }

  const tf = await loadTf();
  const data: HeadData = { Xtrain: Xtr, Ytrain: Ytr, ntrain: ntr, Xval: Xv, Yval: Yv, nval: val.length, dim, numLabels: L };
  const models: Record<string, Record<string, unknown>> = {};
  const candidates: Candidate[] = [];
  const describe = (h: TrainedHead) => ({ bestEpoch: h.bestEpoch, epochsRun: h.history.length, bestValF1MacroTuned: h.bestValF1Macro, options: h.options });

  // 1. Soft-F1 MLP head.
  const headOpts: Partial<HeadOptions> = { seed, ...opts.head, maxEpochs };
  const mlp = await trainHead(tf, data, headOpts, (e) => progress({ stage: 'mlp', done: e.epoch, total: maxEpochs }));
  models.mlp = describe(mlp);
  const mlpMember: ArtifactMember = { name: 'mlp', weight: 1, layers: mlp.layers };
  candidates.push({
    name: 'mlp',
    deployable: true,
    type: 'mlp',
    members: [mlpMember],
    valProbs: predictLayersTf(tf, mlp.layers, Xv, val.length),
    testProbs: predictLayersTf(tf, mlp.layers, Xte, test.length),
  });
  progress({ stage: 'models', done: ++stage, total: stagesTotal });

  // 2. One-vs-rest logistic regression.
  const lrOpts: LogisticOptions = { ...DEFAULT_LOGISTIC_OPTIONS, seed, ...opts.logistic };
  const lr = await trainLogistic(tf, data, lrOpts, (e) => progress({ stage: 'logistic', done: e.epoch, total: lrOpts.maxEpochs }));
  models.logreg = describe(lr);
  const lrMember: ArtifactMember = { name: 'logreg', weight: 1, layers: lr.layers };
  const lrVal = predictLayersTf(tf, lr.layers, Xv, val.length);
  const lrTest = predictLayersTf(tf, lr.layers, Xte, test.length);
  candidates.push({ name: 'logreg', deployable: true, type: 'logistic', members: [lrMember], valProbs: lrVal, testProbs: lrTest });
  progress({ stage: 'models', done: ++stage, total: stagesTotal });

  // 3. Ensemble: mean of MLP and LR probabilities.
  const avg = (a: Float32Array, b: Float32Array) => a.map((v, i) => (v + b[i]) / 2);
  candidates.push({
    name: 'mlp+logreg',
    deployable: true,
    type: 'ensemble',
    members: [mlpMember, lrMember],
    valProbs: avg(candidates[0].valProbs, lrVal),
    testProbs: avg(candidates[0].testProbs, lrTest),
  });

  // 4. Cosine kNN (not deployable: it would need every training embedding in the artifact).
  if (kGrid.length > 0) {
    const kMax = Math.max(...kGrid);
    progress({ stage: 'knn', done: 0, total: 2 });
    const nbVal = await knnNeighbours(tf, XtrBase, train.length, Xv, val.length, dim, kMax);
    const choice = chooseK(nbVal, YtrBase, Yv, L, kGrid);
    progress({ stage: 'knn', done: 1, total: 2 });
    const nbTest = await knnNeighbours(tf, XtrBase, train.length, Xte, test.length, dim, choice.k);
    progress({ stage: 'knn', done: 2, total: 2 });
    models.knn = { k: choice.k, curve: choice.curve };
    candidates.push({
      name: `knn-k${choice.k}`,
      deployable: false,
      valProbs: knnScores(nbVal, YtrBase, L, choice.k),
      testProbs: knnScores(nbTest, YtrBase, L, choice.k),
    });
    // The vote blended into the image models: in the table only (serving it needs each poster's
    // neighbours at prediction time); docs/ml-levers.md has what validation says about it.
    const knn = candidates[candidates.length - 1];
    for (const base of candidates.filter((c) => c.deployable)) {
      for (const w of opts.knnBlendWeights ?? DEFAULT_KNN_BLEND_WEIGHTS) {
        const mix = (a: Float32Array, b: Float32Array) => a.map((v, i) => (1 - w) * v + w * b[i]);
        candidates.push({
          name: `${base.name}+knn${w}`,
          deployable: false,
          valProbs: mix(base.valProbs, knn.valProbs),
          testProbs: mix(base.testProbs, knn.testProbs),
        });
      }
    }
  }
  progress({ stage: 'models', done: ++stage, total: stagesTotal });

  // 5. Poster text: TF-IDF logistic regression, alone (table only) and fused late with each image model.
  const texts = input.texts;
  if (texts) {
    if (texts.length !== n) throw new RangeError(`texts has ${texts.length} entries, expected ${n}`);
    const textOpts: TextTrainingOptions = { vocabulary: {}, logistic: {}, weights: DEFAULT_TEXT_FUSION_WEIGHTS, ...opts.text };
    const withText = (idx: Int32Array) => idx.filter((i) => texts[i] !== null && texts[i] !== '');
    const trText = withText(train);
    if (trText.length > 0) {
      progress({ stage: 'text', done: 0, total: 1 });
      const vocabulary = buildVocabulary(
        Array.from(trText, (i) => texts[i]!),
        textOpts.vocabulary,
      );
      const vec = new TextVectorizer(vocabulary);
      const rowsOf = (idx: Int32Array) => Array.from(idx, (i) => vec.transform(texts[i] ?? ''));
      const vaText = withText(val);
      const lrText = trainSparseLogistic(
        { rows: rowsOf(trText), Y: gatherRows(Y, L, trText, (m) => new Uint8Array(m)) },
        { rows: rowsOf(vaText), Y: gatherRows(Y, L, vaText, (m) => new Uint8Array(m)) },
        vec.dim,
        L,
        { seed, ...textOpts.logistic },
      );
      models.text = {
        terms: vec.dim,
        trainTexts: trText.length,
        bestEpoch: lrText.bestEpoch,
        epochsRun: lrText.epochsRun,
        bestValF1MacroTuned: lrText.bestValF1Macro,
      };
      const shiftsOf = (idx: Int32Array) => {
        const out = new Float32Array(idx.length * L);
        rowsOf(idx).forEach((row, k) => textShift(row, lrText.model.weights, L, out.subarray(k * L, (k + 1) * L)));
        return out;
      };
      const shiftVal = shiftsOf(val),
        shiftTest = shiftsOf(test);
      const prior = (shifts: Float32Array) => Float32Array.from(shifts, (z, i) => 1 / (1 + Math.exp(-(z + lrText.model.bias[i % L]))));
      candidates.push({ name: 'text', deployable: false, valProbs: prior(shiftVal), testProbs: prior(shiftTest) });
      for (const base of candidates.filter((c) => c.deployable && !c.text)) {
        for (const w of textOpts.weights) {
          candidates.push({
            name: `${base.name}+text${w}`,
            deployable: true,
            type: base.type,
            members: base.members,
            text: textMemberArtifact(vocabulary, lrText.model, w),
            valProbs: fuseText(Float32Array.from(base.valProbs), shiftVal, L, w),
            testProbs: fuseText(Float32Array.from(base.testProbs), shiftTest, L, w),
          });
        }
      }
      progress({ stage: 'text', done: 1, total: 1 });
    }
  }

  // Thresholds on validation, evaluation on test.
  const rows: ReportRow[] = [];
  const tuned = new Map<string, number[]>();
  const schemes = [...GLOBAL_SCHEMES.map((t) => `global-${t}`), 'per-class'];
  for (const c of candidates) {
    const t = tunePerClassThresholds(c.valProbs, Yv, val.length, L).thresholds;
    tuned.set(c.name, t);
    for (const scheme of schemes) {
      const th = schemeThresholds(scheme, L, t);
      const valM =
        scheme === 'per-class'
          ? crossFittedValMetrics(c.valProbs, Yv, val.length, L, seed)
          : multilabelMetrics(Yv, binarize(c.valProbs, val.length, th), val.length, GENRES);
      const testM = multilabelMetrics(Yte, binarize(c.testProbs, test.length, th), test.length, GENRES);
      rows.push({
        model: c.name,
        scheme,
        f1Macro: testM.f1Macro,
        f1Micro: testM.f1Micro,
        precisionMacro: testM.precisionMacro,
        recallMacro: testM.recallMacro,
        hamming: testM.hamming,
        valF1Macro: valM.f1Macro,
        valHamming: valM.hamming,
        deployable: c.deployable,
      });
    }
  }
  progress({ stage: 'models', done: ++stage, total: stagesTotal });

  // Selection on validation only.
  const best = chooseRow(rows.filter((r) => r.deployable))!;
  const chosenCand = candidates.find((c) => c.name === best.model)!;
  const chosenThresholds = schemeThresholds(best.scheme, L, tuned.get(best.model)!);
  const chosenTest = multilabelMetrics(Yte, binarize(chosenCand.testProbs, test.length, chosenThresholds), test.length, GENRES);

  const trainingMs = Date.now() - t0;
  const artifact: GenreModelArtifact = {
    format: 'marquee.genre-model',
    version: 1,
    type: chosenCand.type!,
    embeddingDim: dim,
    labels: [...GENRES],
    inputNormalization: 'l2',
    members: chosenCand.members!,
    ...(chosenCand.text ? { text: chosenCand.text } : {}),
    thresholds: chosenThresholds,
    thresholdScheme: best.scheme,
    createdAt: new Date().toISOString(),
    meta: {
      model: best.model,
      splitSeed: seed,
      split: splitName,
      splitSizes: { train: train.length, val: val.length, test: test.length },
      valF1Macro: best.valF1Macro,
      testF1Macro: chosenTest.f1Macro,
      testHamming: chosenTest.hamming,
      trainingMs,
    },
  };
  // Sanity: the artifact is accepted by the serving predictor.
  GenrePredictor.fromArtifact(artifact);
  progress({ stage: 'models', done: stage + 1, total: stagesTotal });

  return {
    artifact,
    report: {
      rows,
      perClass: chosenTest.perClass,
      chosen: { model: best.model, scheme: best.scheme, valF1Macro: best.valF1Macro, thresholds: chosenThresholds },
      split: { name: splitName, seed, train: train.length, val: val.length, test: test.length },
      models,
      trainingMs,
    },
    split: { seed, train, val, test },
    trainingMs,
  };
}

export interface ArtifactEvaluation {
  n: number;
  /** The artifact's own threshold scheme. */
  scheme: string;
  metrics: MetricsReport;
  /** The artifact's scheme first, then global 0.25 / 0.5 / 0.75. */
  rows: Array<{ scheme: string; f1Macro: number; f1Micro: number; precisionMacro: number; recallMacro: number; hamming: number }>;
}

/** Metrics of a stored artifact on an arbitrary labelled set (e.g. `marquee evaluate --csv`). */
export function evaluateArtifact(
  artifact: GenreModelArtifact,
  X: Float32Array,
  Y: Uint8Array,
  n: number,
  texts?: ReadonlyArray<string | null>,
): ArtifactEvaluation {
  const p = GenrePredictor.fromArtifact(artifact);
  const labels = p.labels;
  if (Y.length !== n * labels.length) throw new RangeError(`Y has ${Y.length} values, expected ${n} x ${labels.length}`);
  const probs = p.predict(X, n, texts);
  const metrics = multilabelMetrics(Y, binarize(probs, n, p.thresholds), n, labels);
  const row = (scheme: string, m: MetricsReport) => ({
    scheme,
    f1Macro: m.f1Macro,
    f1Micro: m.f1Micro,
    precisionMacro: m.precisionMacro,
    recallMacro: m.recallMacro,
    hamming: m.hamming,
  });
  const rows = [row(artifact.thresholdScheme, metrics)];
  for (const t of GLOBAL_SCHEMES) rows.push(row(`global-${t}`, multilabelMetrics(Y, binarize(probs, n, t), n, labels)));
  return { n, scheme: artifact.thresholdScheme, metrics, rows };
}

const f3 = (x: number) => x.toFixed(3);
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** Study-style text table: model x threshold scheme on the test split, then the chosen model's per-class report. */
export function formatReport(report: TrainingReport): string {
  const lines: string[] = [];
  const s = report.split;
  lines.push(`split ${s.name ?? `random-${s.seed}`}: train ${s.train} / val ${s.val} / test ${s.test}; training ${(report.trainingMs / 1000).toFixed(1)} s`);
  lines.push('');
  const head = [
    pad('model', 12),
    pad('threshold', 11),
    lpad('F1 macro', 9),
    lpad('F1 micro', 9),
    lpad('P macro', 8),
    lpad('R macro', 8),
    lpad('Hamming', 8),
    lpad('val F1', 7),
  ];
  lines.push(head.join(' '));
  lines.push('-'.repeat(head.join(' ').length));
  const chosen = chosenRow(report);
  for (const r of report.rows) {
    const mark = r === chosen ? ' *' : '';
    lines.push(
      [
        pad(r.model, 12),
        pad(r.scheme, 11),
        lpad(f3(r.f1Macro), 9),
        lpad(f3(r.f1Micro), 9),
        lpad(f3(r.precisionMacro), 8),
        lpad(f3(r.recallMacro), 8),
        lpad(f3(r.hamming), 8),
        lpad(f3(r.valF1Macro), 7),
      ].join(' ') + mark,
    );
  }
  lines.push('');
  lines.push(`chosen (validation macro F1): ${report.chosen.model} / ${report.chosen.scheme}; per-class report on test:`);
  lines.push([pad('label', 12), lpad('precision', 9), lpad('recall', 8), lpad('f1', 7), lpad('support', 8), lpad('thresh', 7)].join(' '));
  report.perClass.forEach((c, j) => {
    lines.push(
      [
        pad(c.label, 12),
        lpad(f3(c.precision), 9),
        lpad(f3(c.recall), 8),
        lpad(f3(c.f1), 7),
        lpad(String(c.support), 8),
        lpad(report.chosen.thresholds[j].toFixed(2), 7),
      ].join(' '),
    );
  });
  return lines.join('\n');
}
