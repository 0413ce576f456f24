/**
 * `npm run bench [-- --only embedding,training,index,api,filtered,isolation,explorer,demo,soak] [--data-dir ./data] [--port N] [--soak-seconds 600]
 * [--isolation-seconds 20] [--postgres postgres://root@127.0.0.1:5432/postgres | none]`: measures and writes
 * docs/benchmarks.md. The training, index, API and explorer sections need a data directory holding the full
 * poster set: `npx marquee import ../shared/data/posters/movies.csv && npx marquee embed && npx marquee train --activate`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { chosenRow, formatReport, trainGenreModels } from '../src/ml/genre/training/trainer';
import { benchApi, benchIndex } from './api';
import { benchDemo } from './demo';
import { benchExplorer } from './explorer';
import { benchEmbedding } from './embedding';
import { benchIsolation, isolationVerdict } from './isolation';
import { flatness, rssChart, soak } from './soak';

const ROOT = path.resolve(__dirname, '../..');
const DOC = path.join(ROOT, 'docs/benchmarks.md');

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const name0 = (only: string[]) => only.join(',');

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, no GPU`;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
const table = (rec: Record<string, number>) =>
  ['| measure | value |', '| --- | --- |', ...Object.entries(rec).map(([k, v]) => `| ${k} | ${fmt(v)} |`)].join('\n');

async function main(): Promise<void> {
  const only = (arg('only', 'embedding,training,index,api,explorer,demo,soak') ?? '').split(',');
  const dataDir = path.resolve(arg('data-dir', process.env.MARQUEE_DATA_DIR ?? './data')!);
  const modelsDir = path.resolve(process.env.MARQUEE_MODELS_DIR ?? path.join(ROOT, '../shared/models'));
  const postersDir = path.resolve(ROOT, '../shared/data/posters');
  const port = arg('port') ? Number(arg('port')) : undefined; // the server child process's port (4567 and 4568 by default)
  const log = (l: string) => process.stderr.write(`${l}\n`);
  // Sections by name; a run of some sections keeps the others from the previous document.
  const sections = new Map<string, string>();
  // The machine may be shared: the load before the run says how busy it was (compare rows within one run).
  const load = `load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')} (1/5/15 min) at the start`;
  const command = `npm run bench -- --only ${name0(only)}${arg('data-dir') ? ` --data-dir ${arg('data-dir')}` : ''}`;
  const stampOf = () => `_${machine()}; ${load}; ${new Date().toISOString().slice(0, 10)}; \`${command}\`_`;
  const section = (name: string, text: string) => {
    const [title, ...rest] = text.split('\n\n');
    sections.set(name, `<!-- section:${name} -->\n${title}\n\n${stampOf()}\n\n${rest.join('\n\n')}`);
  };

  if (only.includes('embedding')) {
    log('== embedding');
    const r = await benchEmbedding({ modelsDir, log });
    r['peak RSS of the bench process MiB'] = process.resourceUsage().maxRSS / 1024;
    section('embedding', `## Embedding (MobileNetV2 fp32, CPU provider, 2 threads)\n\n${table(r)}`);
  }

  const haveData = fs.existsSync(path.join(dataDir, 'pglite'));
  if (!haveData && ['training', 'index', 'api', 'filtered', 'isolation', 'explorer', 'soak'].some((s) => only.includes(s))) {
    log(`no data directory at ${dataDir}: training, index, API and explorer sections skipped (import, embed and train first)`);
  }
  if (haveData && only.includes('training')) {
    log('== training');
    const app = await App.open(loadConfig({ ...process.env, MARQUEE_DATA_DIR: dataDir, MARQUEE_MODELS_DIR: modelsDir, DATABASE_URL: '' }));
    try {
      const data = await app.models.loadLabelledSet();
      const t = Date.now();
      const result = await trainGenreModels(data, { seed: 42 });
      const secs = (Date.now() - t) / 1000;
      const chosen = chosenRow(result.report)!;
      section(
        'training',
        `## Training (all ${data.n} stored embeddings, seed 42)\n\n${table({
          'training wall s (split, MLP, logistic regression, kNN, thresholds)': secs,
          'chosen test macro F1': chosen.f1Macro,
          'chosen test Hamming loss': chosen.hamming,
          'peak RSS of the bench process MiB': process.resourceUsage().maxRSS / 1024,
        })}\n\n\`\`\`\n${formatReport(result.report)}\n\`\`\``,
      );
    } finally {
      await app.close();
    }
  }
  if (haveData && only.includes('index')) {
    log('== index');
    section(
      'index',
      `## Cosine index (in-process HNSW, M 16, efConstruction 100, efSearch 80; exact scan for small or selective sets)\n\n${table(await benchIndex({ dataDir, modelsDir, postersDir }))}`,
    );
  }
  if (haveData && only.includes('api')) {
    log('== api');
    section(
      'api',
      `## GraphQL API over loopback (server child process, NODE_ENV=production; autocannon, 10 s per row)\n\n${table(await benchApi({ dataDir, modelsDir, postersDir, log, port }))}`,
    );
  }

  if (haveData && only.includes('filtered')) {
    log('== filtered');
    section(
      'filtered',
      `## Filtered look-alikes: one genre, a year range, against no filter in the same run (server child process, NODE_ENV=production; autocannon, 10 s per row)\n\n${table(await benchApi({ dataDir, modelsDir, postersDir, log, port, similarOnly: true }))}`,
    );
  }

  if (haveData && only.includes('isolation')) {
    log('== isolation');
    const postgres = arg('postgres', process.env.BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/postgres');
    const seconds = Number(arg('isolation-seconds', '20'));
    const r = await benchIsolation({ dataDir, modelsDir, postersDir, log, port, seconds, postgresUrl: postgres === 'none' ? undefined : postgres });
    section(
      'isolation',
      `## Isolation: look-alikes during a retrain and during uploads (server child processes, NODE_ENV=production; autocannon, ${seconds} s per row)\n\n` +
        `\`similarPosters(k:10)\` at 16 clients alone, while 4 more clients send new posters (re-encoded crops of real ones) to \`predictGenres\`, and during a retrain started through the \`retrain\` mutation. ` +
        `embedded: one \`serve\` on the data directory, training in its training thread. worker: \`serve\` with MARQUEE_JOBS=worker on a PostgreSQL copy of the same tables, beside one \`marquee worker\` process that trains. ` +
        `Target (issue 11): p99 during a retrain and during uploads at most 2x alone and at most 25 ms.\n\n${isolationVerdict(r)}\n\n${table(r)}`,
    );
  }

  if (haveData && only.includes('explorer')) {
    log('== explorer');
    section(
      'explorer',
      `## Poster explorer first load (headless Chromium, 1280x900, server child process, NODE_ENV=production)\n\n${table(await benchExplorer({ dataDir, modelsDir, postersDir, log, port }))}`,
    );
  }

  if (haveData && only.includes('soak')) {
    log('== soak');
    const heapSnapshotDir = process.argv.includes('--no-heap-snapshots') ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-soak-heap-'));
    const r = await soak({
      dataDir,
      modelsDir,
      postersDir,
      log,
      port,
      seconds: Number(arg('soak-seconds', '600')),
      clients: Number(arg('clients', '8')),
      heapSnapshotDir,
    });
    if (heapSnapshotDir) fs.rmSync(heapSnapshotDir, { recursive: true, force: true });
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    const heapText = r.heap
      ? `\n\nWhere the JavaScript heap goes (two V8 heap snapshots of the server, \`--heapsnapshot-signal\`, summed by constructor in \`bench/heap-snapshot.ts\`): ${r.heap.beforeMiB.toFixed(0)} MiB before the load, ${r.heap.afterMiB.toFixed(0)} MiB after it; the rest of the RSS is native memory (ONNX Runtime, libvips, PGlite's WebAssembly memory, which V8 counts as one array buffer).\n\n` +
        `| largest after the load | count | MiB | grew by MiB |\n| --- | ---: | ---: | ---: |\n` +
        r.heap.largest.map((k) => `| \`${k.kind}\` | ${k.count} | ${mib(k.bytes)} | ${mib(k.deltaBytes)} |`).join('\n') +
        `\n\n| grew most during the load | count (+) | MiB (+) |\n| --- | ---: | ---: |\n` +
        r.heap.growth
          .map((g) => `| \`${g.kind}\` | ${g.count} (${g.deltaCount >= 0 ? '+' : ''}${g.deltaCount}) | ${mib(g.bytes)} (+${mib(g.deltaBytes)}) |`)
          .join('\n')
      : '';
    const tail = flatness(r.rss);
    const n = Object.values(r.requests).reduce((a, b) => a + b, 0);
    section(
      'soak',
      `## Soak: ${r.seconds / 60} minutes of mixed load at ${r.clients} clients (server child process, NODE_ENV=production, a copy of the full data)\n\n` +
        `Look-alikes of a movie, recommendations from three liked movies, pages of 24 movies with predicted genres, and predictions with evidence for new posters (re-encoded crops of real ones, a fifth of the requests). Resident memory (VmRSS) of the server, sampled every 10 s.\n\n` +
        `${table({
          requests: n,
          'requests/s': n / r.seconds,
          errors: r.errors,
          'latency p50 ms': r.p50Ms,
          'latency p99 ms': r.p99Ms,
          'RSS at start MiB': r.rss[0][1],
          'RSS peak MiB': Math.max(...r.rss.map(([, v]) => v)),
          'RSS at end MiB': r.rss[r.rss.length - 1][1],
          'RSS last half min MiB': tail.min,
          'RSS last half max MiB': tail.max,
          'RSS last half spread (max-min)/mean': tail.spread,
        })}\n\n` +
        `\`\`\`\n${rssChart(r.rss)}\n\`\`\`\n\n` +
        `Samples (s: MiB): ${r.rss.map(([t, v]) => `${t}: ${v.toFixed(0)}`).join(', ')}` +
        (r.errorSamples.length ? `\n\nFirst errors: ${r.errorSamples.join('; ')}` : '') +
        heapText,
    );
  }

  if (only.includes('demo')) {
    log('== demo');
    section(
      'demo',
      `## First run: \`marquee demo\` on the 400-poster sample (fresh embedded database, CPU)\n\n${table(await benchDemo({ modelsDir, postersDir, log }))}`,
    );
  }

  const previous = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
  const generated = previous.split('<!-- manual -->')[0];
  for (const m of generated.matchAll(/<!-- section:(\w+) -->\n[\s\S]*?(?=<!-- section:|$)/g)) {
    if (!sections.has(m[1])) sections.set(m[1], m[0].trimEnd());
  }
  const order = ['embedding', 'training', 'index', 'api', 'filtered', 'isolation', 'explorer', 'soak', 'demo'];
  const ordered = [...sections.entries()].sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map(([, text]) => text);
  const header = `# Benchmarks\n\nEach section is stamped with the machine, date and command that produced it.\n`;
  // Keep hand-written sections (those after the generated marker) across runs.
  const manual = previous.includes('<!-- manual -->') ? previous.slice(previous.indexOf('<!-- manual -->')) : '<!-- manual -->\n';
  fs.mkdirSync(path.dirname(DOC), { recursive: true });
  fs.writeFileSync(DOC, `${header}\n${ordered.join('\n\n')}\n\n${manual}`);
  log(`wrote ${DOC}`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
