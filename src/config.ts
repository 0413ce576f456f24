/**
 * Process configuration: every environment variable the program reads, read and checked once, here
 * (README's environment table documents them). Nothing else reads `process.env`; the composition root
 * (App) hands each part of the program the section it needs.
 *
 * To add a setting: add a field to the section it belongs to (or a new section), read it in
 * `loadConfig` with one of EnvReader's typed readers, and document it in the README. A bad value is
 * reported with the variable's name, together with every other bad value, as one BAD_CONFIG error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from './errors';
import { DEVICES, type Device } from './ml/backbone/device';
import { BACKBONE_ID, DEFAULT_SERVICE_BACKBONE } from './ml/backbone/manifest';

export interface DatabaseConfig {
  /** DATABASE_URL: postgres://… for a PostgreSQL server; undefined for the embedded PGlite in storage.dataDir. */
  url: string | undefined;
}

export interface StorageConfig {
  /** MARQUEE_DATA_DIR (./data): the embedded database, content-addressed posters, the index cache. */
  dataDir: string;
}

export interface MlConfig {
  /**
   * MARQUEE_MODELS_DIR: backbone weights, checked against their manifest's sha256. Default `./models`,
   * or `../shared/models` when there is no `./models` but that one exists (this project's layout, so
   * that a fresh clone's `npx marquee demo` and `npm start` find the weights).
   */
  modelsDir: string;
  /** MARQUEE_BACKBONES_DIR (unset): extra backbone manifests, searched before the built-in ones. */
  backbonesDir: string | undefined;
  /** MARQUEE_BACKBONE (mobilenetv2-fp32-3view): the manifest id used for embeddings and genre models. */
  backbone: string;
  /** MARQUEE_DEVICE (auto): where the backbone runs. */
  device: Device;
}

/** How the in-process similarity index stores the poster vectors. */
export const INDEX_STORAGES = ['auto', 'fp32', 'compact'] as const;
export type IndexStorage = (typeof INDEX_STORAGES)[number];

export interface IndexConfig {
  /**
   * MARQUEE_INDEX_STORAGE (auto). fp32: the full vectors, an HNSW graph on them and a precomputed
   * neighbour list per poster (about 10.6 KB per poster at 1,280 dimensions); compact: 8-bit codes of the
   * vectors and an HNSW graph on their 64-dimensional projection (about 1.7 KB per poster, no neighbour
   * lists); auto: fp32 up to `compactAbove` posters, compact above (docs/benchmarks.md).
   */
  storage: IndexStorage;
  /** MARQUEE_INDEX_COMPACT_ABOVE (150000): where auto switches to compact storage. */
  compactAbove: number;
  /** MARQUEE_INDEX_EXACT_BELOW (1500): below this many posters every search is an exact scan (no graph, no lists). */
  exactBelow: number;
  /**
   * MARQUEE_INDEX_RERANK_PER_K (8): the compact index's graph candidates reranked by the stored codes per
   * result asked for. At a million posters 16 raises recall@10 from 0.936 to 0.952 and halves throughput
   * (docs/benchmarks.md, "A million posters").
   */
  rerankPerK: number;
}

export interface OcrConfig {
  /**
   * MARQUEE_OCR (on): reading text from posters (`marquee ocr`, text-fused genre models, OCR of a new
   * poster in predictGenres when the active model reads text). off: no OCR anywhere; models train on
   * images alone and a text-fused model predicts from the image alone.
   */
  enabled: boolean;
  /** MARQUEE_OCR_WORKERS (the number of cores): OCR worker threads. */
  workers: number | undefined;
}

export interface ServerConfig {
  /** HOST (127.0.0.1) and PORT (4000): where the API listens. */
  host: string;
  port: number;
  /** NODE_ENV=production: introspection and stack traces off. */
  production: boolean;
  /** MARQUEE_REQUIRE_KEY=1: every request needs an API key, public queries too. */
  requireKey: boolean;
  /** MARQUEE_CORS_ORIGINS (none): comma-separated origins allowed to call the API from a browser. */
  corsOrigins: string[];
  /** MARQUEE_PUBLIC_URL (unset): prefix of posterUrl, without a trailing slash; '' for relative paths. */
  publicUrl: string;
}

export interface NetConfig {
  /** MARQUEE_ALLOW_PRIVATE_URLS=1: image URLs may point at loopback, private and link-local addresses. */
  allowPrivateUrls: boolean;
}

export interface ImportConfig {
  /** MARQUEE_IMPORT_BATCH (500): CSV rows committed per transaction. */
  batchSize: number;
  /** MARQUEE_RATINGS_BATCH (5000): ratings lines upserted per transaction by `marquee import-ratings`. */
  ratingsBatchSize: number;
}

export interface RecommendationsConfig {
  /**
   * MARQUEE_RECS_REFIT_MS (2000): after ratings or the catalogue change, the recommender refits once
   * no further change came for this long (a burst of ratings is one refit).
   */
  refitDebounceMs: number;
}

export interface ProgressConfig {
  /** MARQUEE_PROGRESS_INTERVAL_MS (unset: 200 on a terminal, 5000 otherwise); 0 prints every update. */
  intervalMs: number | undefined;
  /** CI=true: plain progress lines even on a terminal. */
  ci: boolean;
}

export interface JobsConfig {
  /**
   * MARQUEE_JOBS (embedded): who runs the queue's jobs (retrain, embed, import). embedded: `serve`
   * runs them itself (training in a child process); worker: `marquee worker` processes do, and `serve`
   * only enqueues (never trains in its own process). worker needs a PostgreSQL server (DATABASE_URL).
   */
  mode: 'embedded' | 'worker';
  /** MARQUEE_JOB_TIMEOUT_S (7200): seconds a running job may take before the queue fails (and retries) it. */
  timeoutS: number;
  /** MARQUEE_JOB_REAP_MS (2000): how often a process looks for retrains whose process died (PostgreSQL). */
  reapMs: number;
}

export interface McpConfig {
  /** MARQUEE_API_URL (http://127.0.0.1:4000/graphql): the GraphQL API that `marquee mcp` calls. */
  apiUrl: string;
  /** MARQUEE_API_KEY (unset): sent as `Authorization: Bearer <key>` by `marquee mcp`. */
  apiKey: string | undefined;
}

export interface Config {
  database: DatabaseConfig;
  storage: StorageConfig;
  ml: MlConfig;
  index: IndexConfig;
  ocr: OcrConfig;
  server: ServerConfig;
  net: NetConfig;
  import: ImportConfig;
  recommendations: RecommendationsConfig;
  progress: ProgressConfig;
  jobs: JobsConfig;
  mcp: McpConfig;
}

/** Where `marquee mcp` finds the API unless MARQUEE_API_URL says otherwise: `npm start`'s default address. */
export const DEFAULT_API_URL = 'http://127.0.0.1:4000/graphql';

/** `./models`, unless it is missing and the shared folder beside the project has models (see MlConfig.modelsDir). */
export function defaultModelsDir(cwd = process.cwd()): string {
  const own = path.resolve(cwd, 'models');
  const shared = path.resolve(cwd, '../shared/models');
  return !fs.existsSync(own) && fs.existsSync(shared) ? shared : own;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Every invalid variable at once, each named with the value it had. */
export class ConfigError extends AppError {
  constructor(readonly problems: string[]) {
    super('BAD_USER_INPUT', `invalid configuration: ${problems.join('; ')}`, 'BAD_CONFIG', { problems });
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const publicUrl = r.optional('MARQUEE_PUBLIC_URL', (v) =>
    /^https?:\/\/[^/\s]+/i.test(v) ? undefined : 'must be an http(s) URL such as https://api.example.com',
  );
  const config: Config = {
    database: { url: r.optional('DATABASE_URL') },
    storage: { dataDir: r.path('MARQUEE_DATA_DIR', './data') },
    ml: {
      modelsDir: r.path('MARQUEE_MODELS_DIR', defaultModelsDir()),
      backbonesDir: r.optionalPath('MARQUEE_BACKBONES_DIR'),
      backbone: r.optional('MARQUEE_BACKBONE', (v) => (BACKBONE_ID.test(v) ? undefined : 'must be a backbone manifest id')) ?? DEFAULT_SERVICE_BACKBONE,
      device: r.oneOf('MARQUEE_DEVICE', DEVICES, 'auto'),
    },
    index: {
      storage: r.oneOf('MARQUEE_INDEX_STORAGE', INDEX_STORAGES, 'auto'),
      compactAbove: r.int('MARQUEE_INDEX_COMPACT_ABOVE', 150_000, 0, 1_000_000_000),
      exactBelow: r.int('MARQUEE_INDEX_EXACT_BELOW', 1500, 64, 1_000_000_000),
      rerankPerK: r.int('MARQUEE_INDEX_RERANK_PER_K', 8, 1, 64),
    },
    ocr: {
      enabled: r.oneOf('MARQUEE_OCR', ['on', 'off'] as const, 'on') === 'on',
      workers: r.optionalInt('MARQUEE_OCR_WORKERS', 1, 64),
    },
    server: {
      host: r.optional('HOST') ?? '127.0.0.1',
      port: r.int('PORT', 4000, 0, 65_535),
      production: env.NODE_ENV === 'production',
      requireKey: r.flag('MARQUEE_REQUIRE_KEY'),
      corsOrigins: r.list('MARQUEE_CORS_ORIGINS'),
      publicUrl: (publicUrl ?? '').replace(/\/$/, ''),
    },
    net: { allowPrivateUrls: r.flag('MARQUEE_ALLOW_PRIVATE_URLS') },
    import: { batchSize: r.int('MARQUEE_IMPORT_BATCH', 500, 1, 1_000_000), ratingsBatchSize: r.int('MARQUEE_RATINGS_BATCH', 5000, 1, 1_000_000) },
    recommendations: { refitDebounceMs: r.int('MARQUEE_RECS_REFIT_MS', 2000, 0, 3_600_000) },
    progress: { intervalMs: r.optionalInt('MARQUEE_PROGRESS_INTERVAL_MS', 0, 3_600_000), ci: env.CI === 'true' },
    jobs: {
      mode: r.oneOf('MARQUEE_JOBS', ['embedded', 'worker'] as const, 'embedded'),
      timeoutS: r.int('MARQUEE_JOB_TIMEOUT_S', 7200, 10, 7 * 24 * 3600),
      reapMs: r.int('MARQUEE_JOB_REAP_MS', 2000, 100, 600_000),
    },
    mcp: {
      apiUrl:
        r.optional('MARQUEE_API_URL', (v) => (/^https?:\/\/[^/\s]+/i.test(v) ? undefined : 'must be an http(s) URL such as http://127.0.0.1:4000/graphql')) ??
        DEFAULT_API_URL,
      apiKey: r.optional('MARQUEE_API_KEY'),
    },
  };
  if (config.jobs.mode === 'worker' && !config.database.url) {
    r.problems.push('MARQUEE_JOBS worker needs a PostgreSQL server that the API and the workers share: set DATABASE_URL (got "worker")');
  }
  if (r.problems.length) throw new ConfigError(r.problems);
  return config;
}

/** Typed readers over the environment; an empty value counts as unset. Problems are collected, not thrown. */
class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** The value, or undefined when unset; `check` returns why a set value is wrong. */
  optional(name: string, check?: (value: string) => string | undefined): string | undefined {
    const v = this.env[name];
    if (v === undefined || v === '') return undefined;
    const why = check?.(v);
    if (why) return this.problem(name, v, why);
    return v;
  }

  path(name: string, fallback: string): string {
    return path.resolve(this.optional(name) ?? fallback);
  }

  optionalPath(name: string): string | undefined {
    const v = this.optional(name);
    return v === undefined ? undefined : path.resolve(v);
  }

  int(name: string, fallback: number, min: number, max: number): number {
    return this.optionalInt(name, min, max) ?? fallback;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    const v = this.optional(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\s*-?\d+\s*$/.test(v) || n < min || n > max) return this.problem(name, v, `must be an integer from ${min} to ${max}`);
    return n;
  }

  /** On with "1", off when unset or "0". */
  flag(name: string): boolean {
    const v = this.optional(name);
    if (v === undefined || v === '0') return false;
    if (v === '1') return true;
    this.problem(name, v, 'must be 1 (on) or 0 (off)');
    return false;
  }

  /** One of `values`, case-insensitive. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const v = this.optional(name);
    if (v === undefined) return fallback;
    const lower = v.toLowerCase();
    const hit = values.find((x) => x === lower);
    if (hit) return hit;
    this.problem(name, v, `must be one of ${values.join(', ')}`);
    return fallback;
  }

  /** Comma-separated, trimmed, empty items dropped. */
  list(name: string): string[] {
    return (this.optional(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  }

  private problem(name: string, value: string, why: string): undefined {
    this.problems.push(`${name} ${why} (got "${value}")`);
    return undefined;
  }
}
