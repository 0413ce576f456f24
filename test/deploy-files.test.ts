/**
 * Dockerfile and compose.yaml cannot be run here (no container engine), so this checks what can be
 * checked: the image is multi-stage and runs as a non-root user with a /readyz health check; every
 * command the image and compose run is a `marquee` command that exists; every environment variable
 * they set is one Config reads, with a value Config accepts; compose runs PostgreSQL with pgvector,
 * two API replicas and one worker, training kept out of the API processes.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { COMMANDS } from '../src/cli/commands';
import { loadConfig, type Env } from '../src/config';
import { ROOT } from './support';

const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parseYaml(fs.readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

/** A volume entry's [source, container path] (the source may be a ${VAR:-default}). */
const mount = (v: string) => v.replace(/^\$\{[^}]*\}/, '$HOST').split(':');

/** The Dockerfile's instructions (continuation lines joined), comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const stages = instructions.reduce<string[][]>((acc, l) => (l.startsWith('FROM ') ? [...acc, [l]] : (acc[acc.length - 1]?.push(l), acc)), []);

/** Every environment variable name loadConfig reads. */
function namesConfigReads(): Set<string> {
  const names = new Set<string>();
  const env = new Proxy<Env>(
    {},
    {
      get: (_t, k) => (typeof k === 'string' && names.add(k), undefined),
    },
  );
  loadConfig(env);
  return names;
}

test('Dockerfile: multi-stage, non-root runtime, health check on /readyz, entrypoint the marquee CLI', () => {
  assert.ok(stages.length >= 2, 'a build stage and a runtime stage');
  const runtime = stages[stages.length - 1];
  const user = runtime.filter((l) => l.startsWith('USER ')).pop();
  assert.ok(user && !/^USER\s+(root|0)\b/.test(user), `the runtime stage runs as a non-root user (${user})`);
  assert.ok(!runtime.some((l) => /^COPY\s+(?!--from)/.test(l)), 'the runtime stage copies only from the build stage');
  const health = runtime.find((l) => l.startsWith('HEALTHCHECK '));
  assert.match(health ?? '', /\/readyz/);
  assert.deepEqual(JSON.parse(runtime.find((l) => l.startsWith('ENTRYPOINT '))!.slice('ENTRYPOINT '.length)), ['node', 'bin/marquee.js']);
  const cmd = JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice('CMD '.length)) as string[];
  assert.ok(cmd[0] in COMMANDS, `CMD ${cmd[0]} is a marquee command`);
  assert.ok(fs.existsSync(path.join(ROOT, 'bin/marquee.js')));
  // The weights are mounted, never copied in.
  assert.ok(!instructions.some((l) => /^COPY\b.*\bmodels\b/.test(l)), 'no weights in the image');
});

test('Dockerfile and compose.yaml set only variables Config reads, with values it accepts', () => {
  const known = namesConfigReads();
  const runtime = stages[stages.length - 1];
  const dockerEnv: Record<string, string> = {};
  for (const l of runtime.filter((x) => x.startsWith('ENV ')))
    for (const m of l.slice(4).matchAll(/(\w+)=("[^"]*"|\S+)/g)) dockerEnv[m[1]] = m[2].replace(/^"|"$/g, '');
  assert.ok(Object.keys(dockerEnv).length > 0);
  for (const name of Object.keys(dockerEnv)) assert.ok(known.has(name), `Dockerfile ENV ${name} is read by Config`);
  assert.equal(dockerEnv.MARQUEE_MODELS_DIR, '/models');
  for (const [name, svc] of Object.entries(compose.services)) {
    if (!svc.build && svc.image !== 'marquee:latest') continue;
    for (const v of Object.keys(svc.environment ?? {})) assert.ok(known.has(v), `${name}: ${v} is read by Config`);
    // Config accepts the container's whole environment (a bad value would stop the program).
    const config = loadConfig({ ...dockerEnv, ...svc.environment });
    assert.equal(config.ml.modelsDir, '/models');
    assert.ok(
      (svc.volumes ?? []).some((v) => mount(v)[1] === config.ml.modelsDir),
      `${name} mounts the weights at MARQUEE_MODELS_DIR`,
    );
    assert.ok(
      (svc.volumes ?? []).some((v) => mount(v)[1] === config.storage.dataDir && /^\w+$/.test(mount(v)[0])),
      `${name} shares the named poster volume at MARQUEE_DATA_DIR`,
    );
  }
});

test('compose.yaml: PostgreSQL with pgvector, two API replicas and one worker, migrations first, training out of the API', () => {
  const s = compose.services;
  assert.match(s.db.image ?? '', /pgvector/);
  const marquee = Object.entries(s).filter(([, svc]) => svc.image === 'marquee:latest');
  for (const [name, svc] of marquee) {
    const command = svc.command?.[0];
    assert.ok(command && command in COMMANDS, `${name} runs "${command}", a marquee command`);
    assert.equal(svc.environment?.MARQUEE_JOBS, 'worker', `${name}: the API never trains in its own process`);
    assert.match(svc.environment?.DATABASE_URL ?? '', /^postgres:\/\/[^@]+@db:5432\//, `${name} uses the db service`);
  }
  const byCommand = (c: string) => marquee.filter(([, svc]) => svc.command?.[0] === c).map(([n]) => n);
  assert.equal(byCommand('serve').length, 2, 'two API replicas');
  assert.equal(byCommand('worker').length, 1, 'one worker');
  assert.equal(byCommand('migrate').length, 1, 'migrations run once, before the others');
  for (const name of [...byCommand('serve'), ...byCommand('worker')]) {
    assert.equal(s[name].depends_on?.migrate?.condition, 'service_completed_successfully', `${name} waits for the migrations`);
  }
  for (const name of byCommand('serve')) assert.notEqual(s[name].healthcheck?.disable, true, `${name} keeps the image's /readyz check`);
  assert.equal(s[byCommand('worker')[0]].healthcheck?.disable, true, 'the worker has no HTTP port to probe');
  const hostPorts = byCommand('serve').flatMap((n) => (s[n].ports ?? []).map((p) => p.split(':')[0]));
  assert.equal(new Set(hostPorts).size, 2, 'the replicas listen on different host ports');
});
