/** `marquee serve` as a process: readiness, and a SIGTERM that lets in-flight requests finish and closes the database cleanly. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { Database } from '../src/db/database';
import { CLI, cleanupAll, freePort, MODELS_DIR, POSTERS_DIR, tmpDir } from './support';

after(cleanupAll);

test('SIGTERM: the in-flight request gets its answer, then the server stops and the database reopens cleanly', async () => {
  const dataDir = tmpDir();
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: { ...process.env, MARQUEE_DATA_DIR: dataDir, MARQUEE_MODELS_DIR: MODELS_DIR, DATABASE_URL: '', PORT: String(port), MARQUEE_DEVICE: 'cpu' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  // Up to a minute: on a shared 2-core machine under load, opening a fresh embedded database takes 15 s and more.
  for (let i = 0; i < 600 && !stdout.includes('GraphQL at'); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(stdout, /GraphQL at http:\/\/127\.0\.0\.1:\d+\/graphql \(database: pglite\)/);
  // No model in this data dir: not ready, and saying why (once the index has loaded).
  let ready: { status: string } = { status: '' };
  for (let i = 0; i < 100 && ready.status !== 'no active model'; i++) {
    const r = await fetch(`${base}/readyz`);
    assert.equal(r.status, 503);
    ready = (await r.json()) as { status: string };
    if (ready.status !== 'no active model') await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(ready.status, 'no active model');

  // The first embedding starts the backbone (about a second): a request that is surely in flight.
  const image = fs.readFileSync(path.join(POSTERS_DIR, 'images/tt0116209.jpg')).toString('base64');
  const inFlight = fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($b: String) { predictGenres(poster: {imageBase64: $b}) { modelVersion } }', variables: { b: image } }),
  });
  await new Promise((r) => setTimeout(r, 150));
  child.kill('SIGTERM');
  const res = await inFlight.catch((err) => assert.fail(`in-flight request failed: ${err.cause ?? err}\n${stderr}`));
  const body = (await res.json()) as { errors?: Array<{ extensions: { reason: string } }> };
  // No model is trained in this data dir: the answer is a clean error, not a dropped connection.
  assert.equal(body.errors?.[0].extensions.reason, 'NO_ACTIVE_MODEL');
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /SIGTERM, finishing in-flight requests/);
  assert.match(stderr, /marquee: stopped/);
  await assert.rejects(fetch(`${base}/healthz`));

  const db = await Database.open({ dataDir });
  try {
    assert.equal(await db.pendingMigrations(), false);
  } finally {
    await db.close();
  }
});
