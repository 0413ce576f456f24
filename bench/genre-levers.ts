/**
 * `npm run levers -- [--data-dir ./data] [--backbones a,b] [--splits random,era] [--tuned random=ID,era=ID] [--text]`: the
 * comparison table of docs/ml-levers.md, one row per lever, on the random split (seed 42) and the
 * era split (train from 2000 on, test 1996-1999), macro F1 and Hamming loss of the model chosen on
 * validation within each lever. Needs a data directory with the posters imported and embedded for each
 * backbone named (and `marquee ocr` run for --text). A tuned backbone is only evaluated on the split
 * it was tuned on. Each backbone's rows are printed as soon as its splits are done (a long run keeps what
 * finished); stderr gets each split's wall time and every report row (validation and test macro F1 / Hamming).
 */
import os from 'node:os';
import path from 'node:path';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { chooseRow, type ReportRow, type TrainingReport } from '../src/ml/genre/training/trainer';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Lever {
  name: string;
  /** Which report rows belong to the lever (the chosen one is the best on validation among them). */
  rows: (r: ReportRow) => boolean;
}

const imageOnly = (r: ReportRow) => r.deployable && !r.model.includes('+text');
const LEVERS_PER_BACKBONE: Lever[] = [
  { name: 'image model (MLP / LR / MLP+LR, chosen on validation)', rows: imageOnly },
  { name: 'kNN vote alone', rows: (r) => r.model.startsWith('knn-') },
  { name: 'image model + kNN vote blend', rows: (r) => imageOnly(r) || r.model.includes('+knn') },
];
const TEXT_LEVERS: Lever[] = [
  { name: 'poster text alone (OCR, TF-IDF logistic regression)', rows: (r) => r.model === 'text' },
  { name: 'image model + poster text (late fusion)', rows: (r) => r.deployable },
];

async function main(): Promise<void> {
  const dataDir = path.resolve(arg('data-dir') ?? './data');
  const backbones = (arg('backbones') ?? 'mobilenetv2-fp32').split(',');
  const splits = (arg('splits') ?? 'random,era').split(',');
  const tuned = new Map(
    (arg('tuned') ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const withText = process.argv.includes('--text');
  const log = (l: string) => process.stderr.write(`${l}\n`);
  process.stdout.write(
    '| lever | backbone | test F1 macro | test Hamming | era F1 macro | era Hamming | chosen (test / era) |\n|---|---|---|---|---|---|---|\n',
  );
  const runs: Array<{ backbone: string; splits: string[] }> = backbones.map((b) => ({ backbone: b, splits }));
  for (const [split, id] of tuned) if (splits.includes(split)) runs.push({ backbone: id, splits: [split] });
  for (const run of runs) {
    const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: dataDir, MARQUEE_BACKBONE: run.backbone }));
    try {
      const reports = new Map<string, TrainingReport>();
      for (const split of run.splits) {
        log(`== ${run.backbone} / ${split}${withText ? ' + text' : ''}`);
        const started = Date.now();
        reports.set(split, (await app.models.evaluateSplit(split as 'random' | 'era', { text: withText, progress: true })).report);
        log(`== ${run.backbone} / ${split}: ${((Date.now() - started) / 1000).toFixed(0)} s wall (load average ${os.loadavg()[0].toFixed(1)})`);
        for (const r of reports.get(split)!.rows)
          log(`   ${r.model} ${r.scheme}: val ${r.valF1Macro.toFixed(3)} / ${r.valHamming.toFixed(3)}, test ${r.f1Macro.toFixed(3)} / ${r.hamming.toFixed(3)}`);
      }
      const out: string[] = [];
      for (const lever of [...LEVERS_PER_BACKBONE, ...(withText ? TEXT_LEVERS : [])]) {
        const cell = (split: string) => {
          const rep = reports.get(split);
          const row = rep && chooseRow(rep.rows.filter(lever.rows));
          return row ? { f1: row.f1Macro.toFixed(3), ham: row.hamming.toFixed(3), name: `${row.model} ${row.scheme}` } : { f1: '–', ham: '–', name: '–' };
        };
        const t = cell('random'),
          e = cell('era');
        out.push(`| ${lever.name} | ${run.backbone} | ${t.f1} | ${t.ham} | ${e.f1} | ${e.ham} | ${t.name} / ${e.name} |`);
      }
      process.stdout.write(out.join('\n') + '\n');
    } finally {
      await app.close();
    }
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
