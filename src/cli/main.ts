import 'reflect-metadata';
import { App } from '../app';
import { loadConfig } from '../config';
import { AppError } from '../errors';
import { checkFlags, parseArgs, UsageError } from './args';
import { COMMANDS } from './commands';

const USAGE = `usage: marquee <command> [options]

commands:
  serve                                   serve the GraphQL API on HOST:PORT (and, with MARQUEE_JOBS=embedded, run the queue's jobs)
  worker                                  run the queue's jobs (retrain, embed, import) on the PostgreSQL at DATABASE_URL
  migrate                                 apply database migrations
  import <movies.csv> [--limit N] [--allow-private-urls] [--queue]
  import-ratings <ratings.csv> [--links links.csv] [--batch N]
                                          MovieLens userId,movieId,rating,timestamp (joined through links.csv,
                                          by default the one beside it) or user,imdb_id,rating[,timestamp]
  embed [--limit N] [--batch N] [--queue] embed posters lacking an embedding for the active backbone (batch 32)
                                          --queue (import, embed): a job for the workers instead (PostgreSQL)
  train [--epochs N] [--seed N] [--activate]
  evaluate [--csv other.csv] [--json out.json]
  evaluate-recs [--ratings ratings.csv] [--links links.csv] [--folds N] [--seed N] [--json out.json] [--quiet]
                                          recommenders on MovieLens ratings (default ../shared/data/ratings), warm and cold start
  fit-recs                                fit the recommender on the stored ratings and posters; print people, items, likes, fit time
  predict <image path or URL> [--verbose]
  apikey create --role admin|user [--label text]
  demo [movies.csv]                       import, embed, train and activate a small catalogue (default: the 400-poster sample)
  mcp [--http [--host H] [--port N]]      Model Context Protocol server for chatbots (stdio, or streamable HTTP at /mcp, port 4100),
                                          calling the API at MARQUEE_API_URL (default http://127.0.0.1:4000/graphql)
`;

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(USAGE);
    process.exitCode = name && name !== '--help' && name !== 'help' ? 2 : 0;
    return;
  }
  let app: App | undefined;
  try {
    const args = parseArgs(rest, command.booleanFlags ?? []);
    checkFlags(args, name, [...(command.valueFlags ?? []), ...(command.booleanFlags ?? [])]);
    const config = loadConfig();
    if (command.client) return await command.run(config, args); // runs until its client or a signal ends it
    // A server owns the embedded data directory; any other command run meanwhile connects through its socket.
    app = await App.open(config, { migrate: command.migrate ?? true, share: name === 'serve' ? 'serve' : 'command', command: `marquee ${argv.join(' ')}` });
    if (app.db.guestOf !== undefined) {
      process.stderr.write(`marquee: the server (pid ${app.db.guestOf}) holds ${config.storage.dataDir}; working through its database\n`);
    }
    const keepOpen = await command.run(app, args);
    if (keepOpen) return; // long-running (serve) closes the app itself
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (err instanceof AppError) {
      process.stderr.write(`error [${err.reason ?? err.code}]: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  }
  await app?.close();
}
