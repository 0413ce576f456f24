/**
 * `marquee demo` as a newcomer runs it: a fresh data directory, the 400-poster sample, import +
 * embed + train + activate in one process. Baseline in the same run: the README's manual path, the
 * three commands `import`, `embed` and `train --activate` one after the other on another fresh directory.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/marquee.js');

function marquee(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) =>
      code === 0 ? resolve((performance.now() - started) / 1000) : reject(new Error(`marquee ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

export async function benchDemo(opts: { modelsDir: string; postersDir: string; log?: (line: string) => void }): Promise<Record<string, number>> {
  const log = opts.log ?? (() => undefined);
  const csv = path.join(opts.postersDir, 'sample.csv');
  const fresh = () => fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-bench-demo-'));
  const dirs = [fresh(), fresh()];
  try {
    const env = (dir: string) => ({ MARQUEE_DATA_DIR: dir, MARQUEE_MODELS_DIR: opts.modelsDir, MARQUEE_DEVICE: 'cpu', CI: 'true' });
    const demo = await marquee(['demo', csv], env(dirs[0]));
    log(`demo: ${demo.toFixed(1)} s`);
    const again = await marquee(['demo', csv], env(dirs[0]));
    log(`demo re-run: ${again.toFixed(1)} s`);
    const imp = await marquee(['import', csv, '--quiet'], env(dirs[1]));
    const emb = await marquee(['embed', '--quiet'], env(dirs[1]));
    const train = await marquee(['train', '--activate', '--quiet'], env(dirs[1]));
    log(`import ${imp.toFixed(1)} s, embed ${emb.toFixed(1)} s, train ${train.toFixed(1)} s`);
    return {
      'marquee demo (400 posters, fresh data dir) s': demo,
      'marquee demo re-run (nothing changed) s': again,
      'baseline: import + embed + train --activate, three commands, s': imp + emb + train,
      'baseline: import s': imp,
      'baseline: embed s': emb,
      'baseline: train --activate s': train,
    };
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
