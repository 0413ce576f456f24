/**
 * Fuzzing the running API: a schema-driven GraphQL fuzzer (random operations, arguments and
 * variables from schema.graphql; FUZZ_CASES cases, 1,000 by default; FUZZ_SEED reproduces a run,
 * and every failure names its seed and case) and image fuzzing over real posters (truncations, bit
 * flips, wrong headers). Every answer must be a clear error or data: never INTERNAL_SERVER_ERROR,
 * never a 5xx, and the server stays alive. Real server, PGlite, posters, backbone and a trained model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSchema } from 'graphql';
import { App } from '../src/app';
import { MarqueeServer } from '../src/server/http-server';
import { CLIENT_ERROR_CODES } from '../src/server/format-error';
import { GraphQLFuzzer, jsonVariables, seededRandom } from './fuzz/graphql-fuzzer';
import { cleanupAll, openApp, POSTERS_DIR, ROOT, sampleSubset, tmpDir } from './support';

after(cleanupAll);

const CASES = Number(process.env.FUZZ_CASES ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

interface Answer {
  status: number;
  errors: Array<{ message: string; extensions?: { code?: string; reason?: string } }>;
}

let app: App;
let server: MarqueeServer;
let url: string;
let adminKey: string;

async function post(body: unknown, key?: string): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: { errors?: Answer['errors'] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    json = { errors: [{ message: `not JSON: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, errors: json.errors ?? [] };
}

/** Why an answer is not a clear one, or undefined when it is. */
function unclear(a: Answer): string | undefined {
  if (a.status >= 500) return `HTTP ${a.status}: ${JSON.stringify(a.errors).slice(0, 300)}`;
  for (const e of a.errors) {
    const code = e.extensions?.code;
    if (!code || !CLIENT_ERROR_CODES.has(code)) return `${code ?? 'no code'}: ${e.message}`;
    if (!e.message) return `${code} without a message`;
  }
  return undefined;
}

const posterFiles = fs
  .readdirSync(path.join(POSTERS_DIR, 'images'))
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, 12)
  .map((f) => path.join(POSTERS_DIR, 'images', f));

before(async () => {
  app = await openApp('pglite');
  await app.importer.importCsv(sampleSubset(tmpDir(), 80), { progress: false });
  await app.embedding.embedMissing({ progress: false });
  await app.models.train({ epochs: 10, activate: true, text: false });
  adminKey = (await app.apiKeys.create('admin')).key;
  server = new MarqueeServer(app, { log: () => undefined });
  url = (await server.start('127.0.0.1', 0)).url;
});
after(() => server.stop());

describe('fuzzing', () => {
  test(`schema-driven GraphQL fuzzer: ${CASES} cases, no internal errors, no 5xx, the server alive (seed ${SEED})`, async (t) => {
    const schema = buildSchema(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));
    const ids = (await app.db.dataSource.query<Array<{ id: number }>>(`SELECT id FROM movie ORDER BY id LIMIT 20`)).map((r) => String(r.id));
    const cursors = ids.slice(0, 3).map((id) => Buffer.from(`movie:${id}`).toString('base64url'));
    const small = fs.readFileSync(posterFiles[0]).toString('base64');
    const fuzzer = new GraphQLFuzzer(schema, SEED, { skipFields: ['retrain'], ids, cursors, imagesBase64: [small] });
    const failures: string[] = [];
    const counts = { data: 0, errors: 0 };
    const cases = Array.from({ length: CASES }, () => fuzzer.next());
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const i = next++;
        const c = cases[i];
        const a = await post({ query: c.query, variables: jsonVariables(c.variables) }, c.admin ? adminKey : undefined).catch((err: unknown): Answer => {
          const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
          return { status: 599, errors: [{ message: `request failed: ${cause}` }] };
        });
        const why = unclear(a);
        if (why)
          failures.push(`case ${i} (FUZZ_SEED=${SEED}): ${why}\n  query: ${c.query.slice(0, 600)}\n  variables: ${JSON.stringify(c.variables).slice(0, 300)}`);
        if (a.errors.length) counts.errors++;
        else counts.data++;
        if (i % 100 === 99) {
          const h = await fetch(url.replace(/graphql$/, 'healthz')).catch(() => undefined);
          if (h?.status !== 200) failures.push(`case ${i} (FUZZ_SEED=${SEED}): /healthz did not answer 200 afterwards`);
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    t.diagnostic(`FUZZ_SEED=${SEED}: ${CASES} cases, ${counts.data} answered data, ${counts.errors} clear errors, ${failures.length} unclear`);
    assert.equal(failures.length, 0, `${failures.length} of ${CASES} cases unclear (reproduce: FUZZ_SEED=${SEED}):\n${failures.slice(0, 8).join('\n')}`);
    assert.ok(counts.data > CASES / 20, `a fair share of the cases answer data (${counts.data} data, ${counts.errors} errors)`);
    assert.equal((await fetch(url.replace(/graphql$/, 'healthz'))).status, 200);
  });

  test('image fuzzing over real posters: truncations, bit flips and wrong headers get clear errors only', async () => {
    const rnd = seededRandom(SEED);
    const mutations: Array<[string, (b: Buffer) => Buffer]> = [
      ['truncated to 10%', (b) => b.subarray(0, Math.floor(b.length * 0.1))],
      ['truncated to 60%', (b) => b.subarray(0, Math.floor(b.length * 0.6))],
      ['truncated to 99%', (b) => b.subarray(0, b.length - 3)],
      [
        '40 bit flips',
        (b) => {
          const c = Buffer.from(b);
          for (let i = 0; i < 40; i++) c[Math.floor(rnd() * c.length)] ^= 1 << Math.floor(rnd() * 8);
          return c;
        },
      ],
      [
        'flips in the header',
        (b) => {
          const c = Buffer.from(b);
          for (let i = 3; i < 200; i += 7) c[i] ^= 0xff;
          return c;
        },
      ],
      ['PNG magic on a JPEG body', (b) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), b.subarray(8)])],
      ['GIF magic on a JPEG body', (b) => Buffer.concat([Buffer.from('GIF89a'), b.subarray(6)])],
      ['TIFF magic', (b) => Buffer.concat([Buffer.from([0x49, 0x49, 0x2a, 0x00]), b.subarray(4)])],
      ['header only', (b) => b.subarray(0, 20)],
      ['zeroed body', (b) => Buffer.concat([b.subarray(0, 600), Buffer.alloc(b.length - 600)])],
    ];
    const failures: string[] = [];
    const reasons = new Map<string, number>();
    for (const file of posterFiles) {
      const bytes = fs.readFileSync(file);
      for (const [name, mutate] of mutations) {
        const b = mutate(bytes).toString('base64');
        for (const query of [
          'query($b: String) { predictGenres(poster: {imageBase64: $b}) { modelVersion genres { genre probability } } }',
          'query($b: String) { similarPosters(poster: {imageBase64: $b}, k: 3) { score } }',
        ]) {
          const a = await post({ query, variables: { b } });
          const why = unclear(a);
          if (why) failures.push(`${path.basename(file)} ${name}: ${why}`);
          for (const e of a.errors) {
            if (e.extensions?.code !== 'BAD_USER_INPUT') failures.push(`${path.basename(file)} ${name}: ${e.extensions?.code} ${e.message}`);
            const r = e.extensions?.reason ?? '?';
            reasons.set(r, (reasons.get(r) ?? 0) + 1);
          }
        }
      }
    }
    assert.deepEqual(failures, []);
    for (const r of reasons.keys())
      assert.match(r, /^(IMAGE_CORRUPT|NOT_AN_IMAGE|IMAGE_EMPTY|UNSUPPORTED_FORMAT|IMAGE_TOO_LARGE)$/, `reasons: ${JSON.stringify([...reasons])}`);
    assert.equal((await fetch(url.replace(/graphql$/, 'healthz'))).status, 200);
  });
});
