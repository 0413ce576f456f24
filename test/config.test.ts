/** Config: every environment variable is read in one place, with the documented defaults and clear errors. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, defaultModelsDir, loadConfig } from '../src/config';

test('defaults: embedded database in ./data, models in ./models, the default backbone on auto, 127.0.0.1:4000', () => {
  const c = loadConfig({});
  assert.deepEqual(c.database, { url: undefined });
  assert.equal(c.storage.dataDir, path.resolve('./data'));
  assert.deepEqual(c.ml, { modelsDir: defaultModelsDir(), backbonesDir: undefined, backbone: 'mobilenetv2-fp32-3view', device: 'auto' });
  assert.deepEqual(c.server, { host: '127.0.0.1', port: 4000, production: false, requireKey: false, corsOrigins: [], publicUrl: '' });
  assert.deepEqual([c.net.allowPrivateUrls, c.import.batchSize, c.progress.intervalMs, c.progress.ci], [false, 500, undefined, false]);
});

test('models: ./models by default, ../shared/models when only that one exists (a fresh clone beside ../shared)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-config-'));
  try {
    const project = path.join(root, 'marquee');
    fs.mkdirSync(project);
    assert.equal(defaultModelsDir(project), path.join(project, 'models'));
    fs.mkdirSync(path.join(root, 'shared/models'), { recursive: true });
    assert.equal(defaultModelsDir(project), path.join(root, 'shared/models'));
    fs.mkdirSync(path.join(project, 'models'));
    assert.equal(defaultModelsDir(project), path.join(project, 'models'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('every variable is read into its section', () => {
  const c = loadConfig({
    DATABASE_URL: 'postgres://db/x',
    MARQUEE_DATA_DIR: '/d',
    MARQUEE_MODELS_DIR: '/m',
    MARQUEE_BACKBONES_DIR: '/b',
    MARQUEE_BACKBONE: 'mobilenetv2-fp32',
    MARQUEE_DEVICE: 'WebGPU',
    HOST: '0.0.0.0',
    PORT: '8080',
    NODE_ENV: 'production',
    MARQUEE_REQUIRE_KEY: '1',
    MARQUEE_CORS_ORIGINS: ' https://a.example, ,https://b.example',
    MARQUEE_PUBLIC_URL: 'https://api.example.com/',
    MARQUEE_ALLOW_PRIVATE_URLS: '1',
    MARQUEE_IMPORT_BATCH: '50',
    MARQUEE_PROGRESS_INTERVAL_MS: '0',
    CI: 'true',
  });
  assert.equal(c.database.url, 'postgres://db/x');
  assert.deepEqual(c.ml, { modelsDir: '/m', backbonesDir: '/b', backbone: 'mobilenetv2-fp32', device: 'webgpu' });
  assert.deepEqual(c.server, {
    host: '0.0.0.0',
    port: 8080,
    production: true,
    requireKey: true,
    corsOrigins: ['https://a.example', 'https://b.example'],
    publicUrl: 'https://api.example.com',
  });
  assert.deepEqual([c.storage.dataDir, c.net.allowPrivateUrls, c.import.batchSize, c.progress.intervalMs, c.progress.ci], ['/d', true, 50, 0, true]);
});

test('bad values are one BAD_CONFIG error naming every variable and its value', () => {
  assert.throws(
    () =>
      loadConfig({
        MARQUEE_DEVICE: 'tpu',
        PORT: '80a',
        MARQUEE_REQUIRE_KEY: 'yes',
        MARQUEE_IMPORT_BATCH: '0',
        MARQUEE_PUBLIC_URL: 'api.example.com',
        MARQUEE_BACKBONE: '../x',
      }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.reason, 'BAD_CONFIG');
      assert.equal(e.problems.length, 6);
      for (const want of [
        'MARQUEE_DEVICE must be one of auto, cpu, webgpu, cuda (got "tpu")',
        'PORT',
        'MARQUEE_REQUIRE_KEY',
        'MARQUEE_IMPORT_BATCH',
        'MARQUEE_PUBLIC_URL',
        'MARQUEE_BACKBONE',
      ]) {
        assert.ok(e.message.includes(want), `${want} in ${e.message}`);
      }
      return true;
    },
  );
});

test('jobs: embedded by default; worker mode needs a PostgreSQL server the API and the workers share', () => {
  assert.deepEqual(loadConfig({}).jobs, { mode: 'embedded', timeoutS: 7200, reapMs: 2000 });
  const c = loadConfig({ MARQUEE_JOBS: 'Worker', DATABASE_URL: 'postgres://db/x', MARQUEE_JOB_TIMEOUT_S: '600', MARQUEE_JOB_REAP_MS: '500' });
  assert.deepEqual(c.jobs, { mode: 'worker', timeoutS: 600, reapMs: 500 });
  assert.throws(
    () => loadConfig({ MARQUEE_JOBS: 'worker' }),
    (e: unknown) => e instanceof ConfigError && e.problems.length === 1 && /MARQUEE_JOBS worker needs .*DATABASE_URL/.test(e.message),
  );
  assert.throws(
    () => loadConfig({ MARQUEE_JOBS: 'cron', MARQUEE_JOB_TIMEOUT_S: '1' }),
    (e: unknown) => e instanceof ConfigError && e.problems.length === 2 && e.message.includes('MARQUEE_JOBS must be one of embedded, worker'),
  );
});
