import { App } from '../app';
import { ApiKeyRepository } from '../repositories/api-key.repository';
import { ApiKeyService } from '../services/api-key.service';
import { formatSummary } from '../services/import/import.service';
import { MarqueeServer } from '../server/http-server';
import { intFlag, ParsedArgs, stringFlag, UsageError } from './args';

export interface Command {
  booleanFlags?: string[];
  /** Whether opening the app applies pending migrations first. */
  migrate?: boolean;
  /** Returns true when the command keeps running and closes the app itself. */
  run(app: App, args: ParsedArgs): Promise<boolean | void>;
}

const out = (s: string) => process.stdout.write(`${s}\n`);

export const COMMANDS: Record<string, Command> = {
  serve: {
    async run(app) {
      const server = new MarqueeServer(app, new ApiKeyService(new ApiKeyRepository(app.db.dataSource)), { resolvers: app.resolvers() });
      const { url } = await server.start(app.config.host, app.config.port);
      out(`marquee: GraphQL at ${url} (database: ${app.db.kind})`);
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`marquee: ${signal}, finishing in-flight requests\n`);
        await server.stop();
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
    booleanFlags: ['allow-private-urls', 'quiet'],
    async run(app, args) {
      const csv = args.positionals[0];
      if (!csv) throw new UsageError('import needs a CSV path');
      const summary = await app.importer.importCsv(csv, {
        limit: intFlag(args, 'limit'),
        allowPrivateUrls: args.flags.has('allow-private-urls') || app.config.allowPrivateUrls,
        progress: !args.flags.has('quiet'),
      });
      for (const s of summary.skipped) out(`skipped line ${s.line}: ${s.reason}: ${s.message}`);
      out(`${formatSummary(summary)} (${summary.seconds.toFixed(1)} s)`);
    },
  },

  apikey: {
    async run(app, args) {
      if (args.positionals[0] !== 'create') throw new UsageError('apikey needs the subcommand create');
      const role = stringFlag(args, 'role');
      if (role !== 'admin' && role !== 'user') throw new UsageError('--role must be admin or user');
      const keys = new ApiKeyService(new ApiKeyRepository(app.db.dataSource));
      const { id, key } = await keys.create(role, stringFlag(args, 'label') ?? null);
      process.stderr.write(`created ${role} key #${id}; it is shown once, store it now:\n`);
      out(key);
    },
  },
};
