import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from '../app';
import type { Config } from '../config';
import type { JobName, JobPayloads } from '../jobs/job-queue';
import { runMcp } from '../mcp/main';
import { firstRunMessage } from '../presentation/first-run';
import type { AppError } from '../errors';
import { ERA_TEST_BEFORE } from '../ml/genre/training/era-split';
import { formatReport } from '../ml/genre/training/trainer';
import { formatSegment } from '../ml/recommendation/protocol';
import { imageSource, readImageSource } from '../net/image-source';
import { formatSummary } from '../services/import/import.service';
import { formatRatingsSummary } from '../services/import/ratings-import.service';
import { MarqueeServer } from '../server/http-server';
import { RATINGS_POLL_S } from '../services/recommendation.service';
import { intFlag, ParsedArgs, nonNegativeNumberFlag, stringFlag, UsageError } from './args';

/** A command on the database: the CLI opens the App for it. */
export interface AppCommand {
  client?: undefined;
  booleanFlags?: string[];
  /** The options that take a value; any other option is refused. */
  valueFlags?: string[];
  /** Whether opening the app applies pending migrations first. */
  migrate?: boolean;
  /** Returns true when the command keeps running and closes the app itself. */
  run(app: App, args: ParsedArgs): Promise<boolean | void>;
}

/** A client of a running server (mcp): never opens the database. */
export interface ClientCommand {
  booleanFlags?: string[];
  valueFlags?: string[];
  client: true;
  run(config: Config, args: ParsedArgs): Promise<void>;
}

export type Command = AppCommand | ClientCommand;

/** What `marquee demo` loads without an argument (paths as in the README, from the project root). */
export const DEFAULT_DEMO_CSV = '../shared/data/posters/sample.csv';
/** What `marquee evaluate-recs` reads without --ratings. */
export const DEFAULT_RATINGS_CSV = '../shared/data/ratings/ratings.csv';

/** How long SIGTERM waits for in-flight responses before closing their connections. */
export const SHUTDOWN_GRACE_MS = 20_000;

const out = (s: string) => process.stdout.write(`${s}\n`);

export const COMMANDS: Record<string, Command> = {
  serve: {
    async run(app) {
      if (app.db.kind === 'pglite') {
        // One process: a job it left QUEUED or RUNNING when it died ends INTERRUPTED; this server runs the jobs.
        const orphans = await app.training.failOrphans();
        if (orphans) process.stderr.write(`marquee: marked ${orphans} interrupted training job(s) INTERRUPTED\n`);
        await app.jobs.work();
      } else if (app.jobs.embedded) {
        // PostgreSQL without workers: this server works on the queue (and reaps retrains whose process died).
        await app.jobs.work();
      } else {
        // Worker mode: `marquee worker` processes run the jobs; this one only enqueues, and reaps with them.
        await app.jobs.reap();
        app.jobs.startReaper();
      }
      // Other processes' writes (replicas, workers, CLI imports on the same PostgreSQL) reach this one's catalog, index and model.
      await app.changes.start();
      // Load the index while the server starts answering; similarity queries wait for it.
      void app.similarity.ready().catch((err) => process.stderr.write(`marquee: index load failed: ${err}\n`));
      // Fit the recommender in the background: until it is ready, recommendations come from posters alone.
      app.recommendations.start();
      app.preloadEmbedderLibrary();
      const server = new MarqueeServer(app);
      const { url } = await server.start(app.config.server.host, app.config.server.port);
      out(`marquee: GraphQL at ${url} (database: ${app.db.kind}); the poster explorer at ${url.replace(/graphql$/, '')}`);
      if ((await app.movies.count()) === 0) out(`marquee: ${firstRunMessage()}`);
      const notice = await app.embedding.otherBackboneNotice();
      if (notice) out(`marquee: ${notice}`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`marquee: ${signal}, finishing in-flight requests (up to ${SHUTDOWN_GRACE_MS / 1000} s) and stopping any retrain\n`);
        // A running retrain stops at its next step and is marked INTERRUPTED, while the responses finish.
        await Promise.all([server.stop(SHUTDOWN_GRACE_MS), app.training.abort('interrupted: the server shut down')]);
        await app.close();
        process.stderr.write('marquee: stopped\n');
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
      return true;
    },
  },

  worker: {
    async run(app) {
      if (app.db.kind !== 'postgres') {
        throw new UsageError(
          'marquee worker needs a PostgreSQL server shared with the API (DATABASE_URL); with the embedded database `serve` runs the jobs itself',
        );
      }
      await app.changes.start();
      await app.jobs.work();
      out(`marquee: worker ${os.hostname()}:${process.pid} runs retrain, embed and import jobs (database: postgres)`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`marquee: ${signal}, finishing the running job\n`);
        await app.close();
        process.stderr.write('marquee: stopped\n');
      };
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
      return true;
    },
  },

  migrate: {
    migrate: false,
    async run(app) {
      const ran = await app.db.dataSource.runMigrations();
      out(ran.length ? `applied ${ran.map((m) => m.name).join(', ')}` : 'database is up to date');
    },
  },

  import: {
    valueFlags: ['limit'],
    booleanFlags: ['allow-private-urls', 'quiet', 'queue'],
    async run(app, args) {
      const csv = args.positionals[0];
      if (!csv) throw new UsageError('import needs a CSV path');
      if (args.flags.has('queue')) {
        const id = await enqueue(app, 'import', {
          csv: path.resolve(csv),
          limit: intFlag(args, 'limit'),
          allowPrivateUrls: args.flags.has('allow-private-urls') || undefined,
        });
        return out(`queued import job ${id}: a worker imports ${path.resolve(csv)} (it must be able to read it)`);
      }
      const summary = await app.importer.importCsv(csv, {
        limit: intFlag(args, 'limit'),
        allowPrivateUrls: args.flags.has('allow-private-urls') || app.config.net.allowPrivateUrls,
        progress: !args.flags.has('quiet'),
      });
      for (const s of summary.skipped) out(`skipped line ${s.line}: ${s.reason}: ${s.message}`);
      out(`${formatSummary(summary)} (${summary.seconds.toFixed(1)} s)`);
    },
  },

  'import-ratings': {
    valueFlags: ['links', 'batch'],
    booleanFlags: ['quiet'],
    async run(app, args) {
      const file = args.positionals[0];
      if (!file) throw new UsageError('import-ratings needs a ratings CSV path');
      const summary = await app.ratingsImport.importFile(file, {
        links: stringFlag(args, 'links'),
        batchSize: intFlag(args, 'batch') || undefined,
        progress: !args.flags.has('quiet'),
      });
      for (const line of formatRatingsSummary(summary)) out(line);
    },
  },

  embed: {
    valueFlags: ['limit', 'batch'],
    booleanFlags: ['quiet', 'queue'],
    async run(app, args) {
      if (args.flags.has('queue')) {
        const id = await enqueue(app, 'embed', { limit: intFlag(args, 'limit') });
        return out(`queued embed job ${id}: a worker embeds the posters lacking a ${app.embedding.backbone} embedding`);
      }
      const r = await app.embedding.embedMissing({
        limit: intFlag(args, 'limit'),
        batchSize: intFlag(args, 'batch', { min: 1, max: 1024 }),
        progress: !args.flags.has('quiet'),
      });
      for (const f of r.failed) out(`failed movie ${f.movieId}: ${f.reason}: ${f.message}`);
      const info = await app.embedding.info();
      out(
        `embedded ${r.embedded}, failed ${r.failed.length} (${r.seconds.toFixed(1)} s, ${r.rate.toFixed(1)} img/s, backbone ${info.backbone} on ${info.provider})`,
      );
      // Newly embedded movies get the active model's predictions right away.
      const predicted = await app.models.predictMissing();
      if (predicted) out(`stored predictions of the active model for ${predicted} movies`);
    },
  },

  ocr: {
    valueFlags: ['limit'],
    booleanFlags: ['quiet'],
    async run(app, args) {
      const r = await app.posterTexts.readMissing({ limit: intFlag(args, 'limit'), progress: !args.flags.has('quiet') });
      for (const f of r.failed) out(`failed movie ${f.movieId}: ${f.reason}: ${f.message}`);
      out(
        `read ${r.read} posters (${r.withText} with text), failed ${r.failed.length} (${r.seconds.toFixed(1)} s, ${r.rate.toFixed(1)} posters/s, ${app.posterTexts.engine})`,
      );
    },
  },

  'tune-backbone': {
    valueFlags: ['split', 'id', 'epochs', 'seed', 'patience', 'batch-size', 'tail-lr', 'head-lr', 'l2sp'],
    booleanFlags: ['quiet'],
    async run(app, args) {
      const split = stringFlag(args, 'split') ?? 'random';
      if (split !== 'random' && split !== 'era') throw new UsageError('--split must be random or era');
      const m = await app.tuning.tune({
        split,
        id: stringFlag(args, 'id'),
        seed: intFlag(args, 'seed'),
        tuning: {
          epochs: intFlag(args, 'epochs', { min: 1, max: 500 }),
          patience: intFlag(args, 'patience', { min: 1, max: 100 }),
          batchSize: intFlag(args, 'batch-size', { min: 8, max: 4096 }),
          tailLearningRate: nonNegativeNumberFlag(args, 'tail-lr'),
          headLearningRate: nonNegativeNumberFlag(args, 'head-lr'),
          l2sp: nonNegativeNumberFlag(args, 'l2sp'),
        },
        progress: !args.flags.has('quiet'),
      });
      out(
        `wrote backbone ${m.id}: ${m.file} (sha256 ${m.sha256}), tuned on split ${m.tuning.split}; validation macro F1 ${m.tuning.frozenValF1Macro.toFixed(4)} frozen -> ${m.tuning.valF1Macro.toFixed(4)} (epoch ${m.tuning.bestEpoch})`,
      );
      out(`use it: MARQUEE_BACKBONE=${m.id} npx marquee embed && MARQUEE_BACKBONE=${m.id} npx marquee ${split === 'era' ? 'evaluate --split era' : 'train'}`);
    },
  },

  train: {
    valueFlags: ['epochs', 'seed'],
    booleanFlags: ['activate', 'quiet', 'no-text'],
    async run(app, args) {
      const outcome = await app.models.train({
        epochs: intFlag(args, 'epochs', { min: 1, max: 500 }),
        seed: intFlag(args, 'seed'),
        activate: args.flags.has('activate'),
        text: !args.flags.has('no-text'),
        progress: !args.flags.has('quiet'),
      });
      out(formatReport(outcome.report));
      out(
        `stored model version ${outcome.name} (#${outcome.versionId})${outcome.activated ? ', active' : ''}; trained in ${(outcome.report.trainingMs / 1000).toFixed(1)} s`,
      );
    },
  },

  evaluate: {
    valueFlags: ['csv', 'json', 'split', 'limit', 'seed'],
    booleanFlags: ['quiet', 'no-text'],
    async run(app, args) {
      const csv = stringFlag(args, 'csv');
      const json = stringFlag(args, 'json');
      const split = stringFlag(args, 'split') ?? 'both';
      if (!['random', 'era', 'both'].includes(split)) throw new UsageError('--split must be random, era or both');
      let result: unknown;
      if (csv) {
        const r = await app.evaluation.evaluateCsv(csv, { limit: intFlag(args, 'limit') });
        out(`model ${r.version} on ${csv}: ${r.evaluation.n} posters (${r.skipped.length} rows skipped)`);
        out(formatEvaluation(r.evaluation));
        result = r;
      } else {
        const results: Record<string, unknown> = {};
        if (split !== 'era') {
          const { version, report } = await app.models.activeReport();
          out(`model ${version.name} (test split of its training data)`);
          out(formatReport(report));
          results.random = { version: version.name, report };
        }
        if (split !== 'random') {
          // The active model saw 1996-1999 posters in training: the era split trains afresh (nothing stored).
          const era = await app.models
            .evaluateSplit('era', { seed: intFlag(args, 'seed'), text: !args.flags.has('no-text'), progress: !args.flags.has('quiet') })
            .catch((err: unknown) => {
              // Asked for both: a backbone tuned on the random split has no era figures, say so and keep the rest.
              if (split === 'both' && (err as AppError).reason === 'BACKBONE_TUNED_ON_OTHER_SPLIT') return (err as AppError).message;
              throw err;
            });
          if (typeof era === 'string') out(`\nera split skipped: ${era}`);
          else {
            out(`\nera split (trained on movies from ${ERA_TEST_BEFORE} on, tested on the ones before; the same models and selection, nothing stored)`);
            out(formatReport(era.report));
            results.era = { report: era.report };
          }
        }
        result = results;
      }
      if (json) {
        fs.writeFileSync(json, JSON.stringify(result, null, 2));
        out(`wrote ${json}`);
      }
    },
  },

  'evaluate-recs': {
    valueFlags: ['ratings', 'links', 'json', 'folds', 'seed'],
    booleanFlags: ['quiet'],
    async run(app, args) {
      const ratings = stringFlag(args, 'ratings') ?? DEFAULT_RATINGS_CSV;
      const json = stringFlag(args, 'json');
      const quiet = args.flags.has('quiet');
      const r = await app.recsEvaluation.evaluate(
        { ratings, links: stringFlag(args, 'links'), protocol: { seed: intFlag(args, 'seed'), folds: intFlag(args, 'folds') } },
        (line) => {
          if (!quiet) process.stderr.write(`${line}\n`);
        },
      );
      out(formatSegment(r.warm));
      out('');
      out(formatSegment(r.cold));
      out('');
      out(
        `chosen: ${r.chosen.name}; precision@10 ${r.warmRatio.toFixed(2)}x the best of popularity and item-kNN; cold-start recall@100 ${r.coldRatio.toFixed(2)}x the genre profile`,
      );
      if (json) {
        fs.writeFileSync(json, JSON.stringify(r, null, 2));
        out(`wrote ${json}`);
      }
    },
  },

  'fit-recs': {
    async run(app) {
      await app.recommendations.refit();
      const s = app.recommendations.state;
      out(
        `fitted the recommender: ${s.people} people, ${s.items} liked movies, ${s.likes} likes in ${((s.fitMs ?? 0) / 1000).toFixed(1)} s (ratings ${s.interactionsStamp})`,
      );
      if (app.db.guestOf !== undefined) {
        // The embedded database has no change feed: the server's model is its own.
        out(
          `the server (pid ${app.db.guestOf}) keeps its own model: it refits by itself within seconds of a rating through the API, within ${RATINGS_POLL_S} s of ratings imported by a command, and after a retrain`,
        );
      } else if (app.changes.shared) {
        await app.changes.publish({ kind: 'recommender' });
        out('asked the API servers on this database to refit theirs');
      }
    },
  },

  predict: {
    booleanFlags: ['verbose'],
    async run(app, args) {
      const target = args.positionals[0];
      if (!target) throw new UsageError('predict needs an image path or URL');
      const bytes = await readImageSource(imageSource(target, process.cwd()), { allowPrivateUrls: app.config.net.allowPrivateUrls });
      const vector = await app.embedding.embedImage(bytes);
      const p = await app.models.predictPoster({ vector, bytes });
      if (args.flags.has('verbose')) {
        const info = await app.embedding.info();
        out(
          `backbone ${info.backbone} on ${info.provider}${info.skipped.map((s) => ` (skipped ${s.provider}: ${s.reason})`).join('')}; model ${p.modelVersion}`,
        );
      }
      for (const g of [...p.genres].sort((a, b) => b.probability - a.probability)) {
        out(`${g.predicted ? '*' : ' '} ${g.genre.padEnd(12)} ${g.probability.toFixed(3)}`);
      }
      out(
        `predicted: ${
          p.genres
            .filter((g) => g.predicted)
            .map((g) => g.genre)
            .join(', ') || '(none)'
        }`,
      );
    },
  },

  demo: {
    booleanFlags: ['quiet'],
    async run(app, args) {
      const csv = path.resolve(args.positionals[0] ?? DEFAULT_DEMO_CSV);
      if (!args.positionals[0] && !fs.existsSync(csv)) {
        throw new UsageError(`the sample catalogue ${csv} is not there; give a CSV: marquee demo <movies.csv>`);
      }
      const r = await app.demo.run(csv, { progress: !args.flags.has('quiet'), log: out });
      for (const s of r.imported.skipped) out(`skipped line ${s.line}: ${s.reason}: ${s.message}`);
      for (const f of r.embedded.failed) out(`failed movie ${f.movieId}: ${f.reason}: ${f.message}`);
      out(`${formatSummary(r.imported)}; embedded ${r.embedded.embedded}`);
      if (r.trained) out(formatReport(r.trained.report));
      out(
        `demo ready in ${r.seconds.toFixed(1)} s: active model ${r.activeVersion}. Now run \`npm start\` and open http://127.0.0.1:${app.config.server.port}/`,
      );
    },
  },

  mcp: {
    valueFlags: ['host', 'port'],
    client: true,
    booleanFlags: ['http'],
    async run(config, args) {
      await runMcp(config.mcp, { http: args.flags.has('http'), host: stringFlag(args, 'host'), port: intFlag(args, 'port', { min: 0, max: 65535 }) });
    },
  },

  apikey: {
    valueFlags: ['role', 'label'],
    async run(app, args) {
      if (args.positionals[0] !== 'create') throw new UsageError('apikey needs the subcommand create');
      const role = stringFlag(args, 'role');
      if (role !== 'admin' && role !== 'user') throw new UsageError('--role must be admin or user');
      const { id, key } = await app.apiKeys.create(role, stringFlag(args, 'label') ?? null);
      process.stderr.write(`created ${role} key #${id}; it is shown once, store it now:\n`);
      out(key);
    },
  },
};

/** `--queue`: a job for the deployment's workers, which share this PostgreSQL (and the poster files). */
async function enqueue<N extends JobName>(app: App, name: N, data: JobPayloads[N]): Promise<string> {
  if (app.db.kind !== 'postgres') throw new UsageError('--queue needs the PostgreSQL server the workers use (DATABASE_URL)');
  return app.jobs.enqueue(name, data);
}

function formatEvaluation(e: {
  rows: Array<{ scheme: string; f1Macro: number; precisionMacro: number; recallMacro: number; hamming: number }>;
  metrics: { perClass: Array<{ label: string; precision: number; recall: number; f1: number; support: number }> };
}): string {
  const f = (x: number) => x.toFixed(3);
  const lines = ['scheme           F1 macro  P macro  R macro  Hamming'];
  for (const r of e.rows)
    lines.push(
      `${r.scheme.padEnd(16)} ${f(r.f1Macro).padStart(8)} ${f(r.precisionMacro).padStart(8)} ${f(r.recallMacro).padStart(8)} ${f(r.hamming).padStart(8)}`,
    );
  lines.push('', 'label         precision  recall      F1  support');
  for (const c of e.metrics.perClass)
    lines.push(`${c.label.padEnd(12)} ${f(c.precision).padStart(10)} ${f(c.recall).padStart(7)} ${f(c.f1).padStart(7)} ${String(c.support).padStart(8)}`);
  return lines.join('\n');
}
