/**
 * Several processes on one PostgreSQL, as compose.yaml runs them: two API replicas (`marquee serve`)
 * and a queue worker (`marquee worker`), real processes with the environment of compose.yaml's
 * services. A change made through replica A reaches replica B's in-memory index and model within
 * 1 s (LISTEN/NOTIFY); a retrain enqueued through A runs on the worker, never in an API process;
 * the worker is killed with -9 during the retrain, a new worker finishes it: the job is not left
 * RUNNING and exactly one model version is added. Needs TEST_DATABASE_URL (CI sets it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parse as parseCsv } from 'csv-parse/sync';
import { parse as parseYaml } from 'yaml';
import { App } from '../src/app';
import { loadConfig } from '../src/config';
import { CLI, cleanupAll, freePort, freshPostgresUrl, graphqlClient, MODELS_DIR, POSTERS_DIR, ROOT, SAMPLE_CSV, sampleSubset, tmpDir } from './support';

const children: ChildProcessWithoutNullStreams[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await cleanupAll();
});

/** The environment compose.yaml gives the marquee services (x-marquee), with this machine's paths and database. */
function composeEnv(overrides: Record<string, string>): Record<string, string> {
  const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { environment: Record<string, string> }>;
  };
  return { ...compose.services['api-1'].environment, ...overrides };
}

interface Proc {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

function start(command: 'serve' | 'worker', env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [CLI, command], { env: { ...process.env, ...env } });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitFor<T>(what: string, limitMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 25): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: Date.now() - t0 };
    if (Date.now() - t0 > limitMs) assert.fail(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const t0 = Date.now();
const step = (what: string) => process.stderr.write(`# replicas +${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}\n`);

const upWithin = (p: Proc, pattern: RegExp, name: string) =>
  waitFor(
    `${name} started`,
    90_000,
    () => (pattern.test(p.output()) ? true : p.child.exitCode !== null ? assert.fail(`${name} exited:\n${p.output()}`) : undefined),
    100,
  );

test(
  'two replicas and a worker on one PostgreSQL: changes seen across replicas within 1 s; a retrain survives kill -9 of its worker',
  { skip: !process.env.TEST_DATABASE_URL, timeout: 420_000 },
  async () => {
    const url = await freshPostgresUrl();
    const dataDir = tmpDir(); // shared by every process, as compose's `posters` volume
    const env = composeEnv({
      DATABASE_URL: url,
      MARQUEE_DATA_DIR: dataDir,
      MARQUEE_MODELS_DIR: MODELS_DIR,
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      MARQUEE_JOB_REAP_MS: '300',
      MARQUEE_PROGRESS_INTERVAL_MS: '0',
      CI: 'true',
    });
    assert.equal(env.MARQUEE_JOBS, 'worker', 'compose.yaml keeps training out of the API processes');

    // The catalogue: 100 sample posters, embedded, and a first model, made here in-process.
    const seedConfig = loadConfig(env);
    const seed = await App.open(seedConfig);
    let adminKey: string;
    let firstVersion: { id: number; name: string };
    try {
      step('seeding');
      await seed.importer.importCsv(sampleSubset(tmpDir(), 100), { progress: false });
      step('imported');
      await seed.embedding.embedMissing({ progress: false });
      step('embedded');
      const t = await seed.models.train({ epochs: 10, activate: true });
      step('trained');
      firstVersion = { id: t.versionId, name: t.name };
      adminKey = (await seed.apiKeys.create('admin')).key;
    } finally {
      await seed.close();
    }

    const [port, portB] = [await freePort(), await freePort()];
    const a = start('serve', { ...env, PORT: String(port) });
    const b = start('serve', { ...env, PORT: String(portB) });
    const w1 = start('worker', env);
    await Promise.all([upWithin(a, /GraphQL at/, 'replica A'), upWithin(b, /GraphQL at/, 'replica B'), upWithin(w1, /runs retrain/, 'worker')]);
    step('processes up');
    const gqlA = graphqlClient(`http://127.0.0.1:${port}/graphql`);
    const gqlB = graphqlClient(`http://127.0.0.1:${portB}/graphql`);
    const similarOnB = async (id: string) => gqlB(`{ similarPosters(poster: {movieId: "${id}"}, k: 3) { movie { id } } }`);
    const activeOnB = async () => (await gqlB('{ serverInfo { activeModelVersion } }')).data?.serverInfo.activeModelVersion as string | undefined;
    assert.equal((await similarOnB('1')).data?.similarPosters.length, 3, 'B answers from its index');
    assert.equal(await activeOnB(), firstVersion.name);

    // A movie added through A: B's index has it within 1 s.
    const rows = parseCsv<{ img_url: string }>(fs.readFileSync(SAMPLE_CSV, 'utf8'), { columns: true });
    const poster = fs.readFileSync(path.join(POSTERS_DIR, rows[300].img_url)).toString('base64');
    const add = await gqlA(
      'mutation($b: String) { addMovie(input: {title: "Replica Test", year: 2020, genres: ["Drama"], posterBase64: $b}) { id } }',
      { b: poster },
      adminKey,
    );
    assert.equal(add.errors, undefined, JSON.stringify(add.errors));
    const newId = add.data.addMovie.id as string;
    const seen = await waitFor('the added movie in B’s index', 1000, async () =>
      (await similarOnB(newId)).data?.similarPosters.length === 3 ? true : undefined,
    );
    // Deleted through A: gone from B's index within 1 s.
    assert.equal((await gqlA(`mutation { deleteMovie(id: "${newId}") }`, undefined, adminKey)).data?.deleteMovie, true);
    const gone = await waitFor('the deletion in B’s index', 1000, async () =>
      (await similarOnB(newId)).errors?.[0].extensions?.code === 'NOT_FOUND' ? true : undefined,
    );

    step('add and delete seen');
    // A retrain enqueued through A runs on the worker; the worker is killed -9 while it runs.
    const retrain = await gqlA('mutation { retrain(input: {epochs: 30, activate: true}) { id status } }', undefined, adminKey);
    assert.equal(retrain.errors, undefined, JSON.stringify(retrain.errors));
    const jobId = retrain.data.retrain.id as string;
    const jobQuery = `{ trainingJob(id: "${jobId}") { status attempts worker error modelVersionId } }`;
    const job = async () =>
      (await gqlB(jobQuery, undefined, adminKey)).data.trainingJob as {
        status: string;
        attempts: number;
        worker: string;
        error: string | null;
        modelVersionId: string | null;
      };
    const running = await waitFor('the job RUNNING', 60_000, async () => ((await job()).status === 'RUNNING' ? job() : undefined));
    assert.equal(running.value.worker, `${os.hostname()}:${w1.child.pid}`, 'the worker runs it, not an API replica');
    step('job running; kill -9');
    w1.child.kill('SIGKILL');
    await w1.exited;

    const w2 = start('worker', env);
    await upWithin(w2, /runs retrain/, 'second worker');
    step('second worker up');
    const final = await waitFor(
      'the job finished',
      120_000,
      async () => {
        const j = await job();
        return ['SUCCEEDED', 'FAILED', 'INTERRUPTED'].includes(j.status) ? j : undefined;
      },
      200,
    );
    assert.equal(final.value.status, 'SUCCEEDED', `${final.value.error}\n--- worker 2:\n${w2.output()}`);
    assert.equal(final.value.attempts, 2, 'killed once, run again once');
    assert.equal(final.value.worker, `${os.hostname()}:${w2.child.pid}`);
    step('job finished');
    const versions = (await gqlA('{ modelVersions { id name active } }', undefined, adminKey)).data.modelVersions as Array<{
      id: string;
      name: string;
      active: boolean;
    }>;
    assert.equal(versions.length, 2, 'exactly one model version added');
    assert.match(w2.output(), /marquee: worker/);
    assert.doesNotMatch(a.output() + b.output(), /train \d|epoch/i, 'no training output in the API processes');

    // The activation (by the worker) reached B within 1 s; a rollback through A too.
    const newer = versions.find((v) => v.id === final.value.modelVersionId)!;
    const activated = await waitFor('the new version active on B', 1000, async () => ((await activeOnB()) === newer.name ? true : undefined));
    const rollback = await gqlA(`mutation { activateModelVersion(id: "${firstVersion.id}") { active } }`, undefined, adminKey);
    assert.equal(rollback.data?.activateModelVersion.active, true);
    const rolledBack = await waitFor('the rollback on B', 1000, async () => ((await activeOnB()) === firstVersion.name ? true : undefined));
    process.stderr.write(
      `# replicas: add seen on B after ${seen.ms} ms, delete after ${gone.ms} ms, activation after ${activated.ms} ms, rollback after ${rolledBack.ms} ms\n`,
    );

    for (const p of [a, b, w2]) p.child.kill('SIGTERM');
    assert.deepEqual(await Promise.all([a.exited, b.exited, w2.exited]), [0, 0, 0]);
  },
);
