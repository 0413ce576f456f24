/** The `marquee` command line, as a user runs it: real processes, the embedded database, real posters and model. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { firstRunMessage, FIRST_RUN_STEPS } from '../src/presentation/first-run';
import { launchChromium } from './clients/chromium';
import { ratingsSlice } from './ratings-support';
import { CLI, cleanupAll, cliEnv, POSTERS_DIR, ROOT, sampleSubset, tmpDir } from './support';

after(cleanupAll);

let dataDir: string;
let work: string;

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `marquee args`. `killWhen` sees the output so far: true kills the process at once; a promise
 * kills it once the promise settles (the test awaits that promise itself for its outcome).
 */
function marquee(args: string[], opts: { killWhen?: (out: string) => boolean | Promise<unknown>; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: cliEnv(dataDir, opts.env),
    });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    const check = () => {
      if (!opts.killWhen || stopping) return;
      const when = opts.killWhen(stdout + stderr);
      if (when === false) return;
      stopping = true;
      void Promise.resolve(when)
        .catch(() => undefined)
        .finally(() => child.kill('SIGKILL'));
    };
    child.stdout.on('data', (d) => ((stdout += d), check()));
    child.stderr.on('data', (d) => ((stderr += d), check()));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

before(async () => {
  dataDir = tmpDir();
  work = tmpDir();
  const csv = sampleSubset(work, 200);
  const r = await marquee(['import', csv]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported 200, updated 0, unchanged 0, skipped 0/);
});

describe('marquee CLI', () => {
  test('embed shows progress, survives a kill, and resumes where it stopped', async () => {
    const killed = await marquee(['embed', '--batch', '32'], { killWhen: (out) => /embed (6[4-9]|[7-9]\d|1\d\d)\/200/.test(out) });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.match(killed.stderr, /posters · [\d.]+\/s · ETA/);
    const resumed = await marquee(['embed']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const m = /embedded (\d+), failed 0/.exec(resumed.stdout);
    assert.ok(m, resumed.stdout);
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= 136, `resumed run embedded only the rest: ${m[1]}`);
    const again = await marquee(['embed']);
    assert.match(again.stdout, /embedded 0, failed 0/);
  });

  test('serve with another backbone than the stored embeddings says how to embed for it, or keep the old one', async () => {
    const r = await marquee(['serve'], {
      env: { PORT: '0', MARQUEE_BACKBONE: 'mobilenetv2-fp32' },
      killWhen: (out) => /GraphQL at http/.test(out) && /no poster embeddings for backbone/.test(out),
    });
    assert.match(
      r.stdout,
      /no poster embeddings for backbone mobilenetv2-fp32 yet, but 200 for mobilenetv2-fp32-3view: run `npx marquee embed && npx marquee train --activate` for mobilenetv2-fp32, or keep the stored ones with MARQUEE_BACKBONE=mobilenetv2-fp32-3view/,
    );
  });

  test('train prints the comparison table and stores an active version; evaluate prints and writes it', async () => {
    const t = await marquee(['train', '--epochs', '15']);
    assert.equal(t.code, 0, t.stderr);
    for (const want of [
      'F1 macro',
      'P macro',
      'R macro',
      'Hamming',
      'mlp',
      'logreg',
      'knn',
      'global-0.25',
      'global-0.5',
      'global-0.75',
      'per-class',
      'DRAMA',
      'MYSTERY',
    ]) {
      assert.ok(t.stdout.includes(want), `train output has ${want}`);
    }
    assert.match(t.stdout, /stored model version \S+ \(#1\), active/, 'the first version is activated');
    const json = path.join(work, 'eval.json');
    const e = await marquee(['evaluate', '--json', json]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /F1 macro/);
    assert.match(e.stdout, /era split \(trained on movies from 2000 on/);
    const saved = JSON.parse(fs.readFileSync(json, 'utf8'));
    assert.ok(saved.random.report.rows.length >= 12);
    assert.ok(saved.random.report.perClass.length === 13);
    // The era split: trained on 2000 and later, tested on the sample's 1996-1999 movies.
    assert.equal(saved.era.report.split.name, 'era-2000-42');
    assert.ok(saved.era.report.split.test > 0 && saved.era.report.split.test < saved.era.report.split.train);
  });

  test("movies imported and embedded after training get the active model's predictions", async () => {
    const imp = await marquee(['import', sampleSubset(work, 230)]);
    assert.match(imp.stdout, /imported 30, updated 0, unchanged 200/);
    const e = await marquee(['embed']);
    assert.match(e.stdout, /embedded 30, failed 0/);
    assert.match(e.stdout, /stored predictions of the active model for 30 movies/);
  });

  test('evaluate --csv scores another labelled file without importing it', async () => {
    const other = path.join(work, 'other.csv');
    const rows = parse<Record<string, string>>(fs.readFileSync(path.join(POSTERS_DIR, 'sample.csv')), { columns: true }).slice(300, 360);
    fs.writeFileSync(
      other,
      stringify(
        rows.map((r) => ({ ...r, img_url: path.join(POSTERS_DIR, r.img_url) })),
        { header: true },
      ),
    );
    const e = await marquee(['evaluate', '--csv', other]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /on .*other\.csv: 60 posters/);
    assert.match(e.stdout, /global-0.5/);
    const unchanged = await marquee(['import', sampleSubset(work, 230)]);
    assert.match(unchanged.stdout, /imported 0, updated 0, unchanged 230/, 'evaluate imported nothing');
  });

  test('predict prints all 13 probabilities, the labels, and with --verbose the provider', async () => {
    const p = await marquee(['predict', path.join(POSTERS_DIR, 'images/tt0116209.jpg'), '--verbose']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /backbone mobilenetv2-fp32-3view on cpu/);
    assert.equal((p.stdout.match(/^[ *] [A-Z]+\s+0\.\d{3}$/gm) ?? []).length, 13);
    assert.match(p.stdout, /^predicted: /m);
    const notImage = path.join(work, 'notes.txt');
    fs.writeFileSync(notImage, 'hello');
    const bad = await marquee(['predict', notImage]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /error \[(NOT_AN_IMAGE|IMAGE_CORRUPT)\]/);
    const missing = await marquee(['predict', path.join(work, 'nope.jpg')]);
    assert.match(missing.stderr, /error \[FILE_NOT_FOUND\]/);
  });

  test('import-ratings reports counts, skip reasons with line numbers and progress; a re-run reports every line unchanged', async () => {
    const slice = ratingsSlice(tmpDir(), 50);
    const first = await marquee(['import-ratings', slice.ratings]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /import-ratings \d+ lines · [\d.]+\/s · ETA/);
    const m = /MovieLens ratings \(links .*links\.csv\): (\d+) lines: imported (\d+), updated 0, unchanged 0, skipped (\d+) \([\d.]+ s\)/.exec(first.stdout);
    assert.ok(m, first.stdout);
    assert.equal(Number(m[1]), slice.lines.length);
    assert.ok(Number(m[2]) > 0, 'ratings of the imported movies are stored');
    assert.equal(Number(m[2]) + Number(m[3]), slice.lines.length);
    assert.match(first.stdout, /skipped \d+ UNKNOWN_MOVIE: lines \d+, \d+, \d+, \d+, \d+, … \(e\.g\. line \d+: MovieLens movie \d+/);
    const again = await marquee(['import-ratings', slice.ratings, '--quiet']);
    assert.match(again.stdout, new RegExp(`imported 0, updated 0, unchanged ${m[2]}, skipped ${m[3]}`));
    const missing = await marquee(['import-ratings', path.join(work, 'nope.csv')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error \[FILE_NOT_FOUND\]/);
    assert.equal((await marquee(['import-ratings'])).code, 2);
  });

  test('apikey, migrate, usage errors', async () => {
    const k = await marquee(['apikey', 'create', '--role', 'user']);
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout.trim(), /^mq_[A-Za-z0-9_-]{40,}$/);
    assert.equal((await marquee(['apikey', 'create', '--role', 'root'])).code, 2);
    assert.match((await marquee(['migrate'])).stdout, /database is up to date/);
    const unknown = await marquee(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /usage: marquee/);
    const badLimit = await marquee(['import', 'x.csv', '--limit', 'many']);
    assert.equal(badLimit.code, 2);
    const badRate = await marquee(['tune-backbone', '--tail-lr', 'fast']);
    assert.equal(badRate.code, 2);
    assert.match(badRate.stderr, /--tail-lr needs a number >= 0/);
  });
});

/** The commands the explorer's empty state lists, read in Chromium (and kept as a screenshot). */
async function firstRunSteps(explorer: string): Promise<string[]> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(explorer, { timeout: 60_000 });
    const firstRun = page.locator('.first-run');
    await firstRun.waitFor({ timeout: 60_000 });
    assert.equal(await firstRun.locator('h2').textContent(), 'No posters yet');
    const artifacts = path.join(ROOT, 'test-artifacts/first-run');
    fs.mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: path.join(artifacts, 'explorer-empty.png') });
    return await firstRun.locator('dt code').allTextContents();
  } finally {
    await browser.close();
  }
}

describe('marquee first run', () => {
  test('serve on an empty database logs the commands that load posters, and the explorer (in Chromium) shows the same', async () => {
    let shown: Promise<string[]> | undefined;
    const r = await marquee(['serve'], {
      env: { MARQUEE_DATA_DIR: tmpDir(), PORT: '0' },
      killWhen: (out) => {
        const explorer = /the poster explorer at (http:\/\/127\.0\.0\.1:\d+\/)\n/.exec(out)?.[1];
        if (!explorer || !out.includes(FIRST_RUN_STEPS.at(-1)!.command)) return false;
        return (shown = firstRunSteps(explorer));
      },
    });
    assert.ok(r.stdout.includes(firstRunMessage()), r.stdout);
    assert.ok(shown, r.stdout);
    assert.deepEqual(
      await shown,
      FIRST_RUN_STEPS.map((s) => s.command),
    );
  });

  test('demo imports, embeds, trains and activates with progress; a re-run changes and trains nothing', async () => {
    const env = { MARQUEE_DATA_DIR: tmpDir() };
    const csv = sampleSubset(work, 60);
    const first = await marquee(['demo', csv], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /1\/3 import .*\n(.|\n)*2\/3 embed(.|\n)*3\/3 train and activate/);
    assert.match(first.stderr, /embed \d+\/60 posters · [\d.]+\/s · ETA/);
    assert.match(first.stdout, /imported 60, updated 0, unchanged 0, skipped 0; embedded 60/);
    assert.match(first.stdout, /demo ready in [\d.]+ s: active model mobilenetv2-fp32-\S+-v1\./);
    const again = await marquee(['demo', csv], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /imported 0, updated 0, unchanged 60, skipped 0; embedded 0/);
    assert.match(again.stdout, /3\/3 model \S+-v1 is active and the catalogue is unchanged: nothing to train/);
  });
});
