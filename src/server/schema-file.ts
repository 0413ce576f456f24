import fs from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { buildMarqueeSchema } from './schema';

/**
 * `schema.graphql` at the repository root: the API as its clients see it. The build writes it
 * (`npm run build`), the web app's and the MCP server's operations are checked against it, and a
 * test fails when the committed file no longer matches the resolvers.
 */
export const SCHEMA_FILE = path.resolve(__dirname, '../../../schema.graphql');

const HEADER = '# Generated from the type-graphql resolvers by `npm run build`. Do not edit; commit it.\n\n';

export async function printMarqueeSchema(): Promise<string> {
  return HEADER + printSchema(await buildMarqueeSchema()) + '\n';
}

/** Writes the schema file when its content changed; returns whether it did. */
export async function writeSchemaFile(file = SCHEMA_FILE): Promise<boolean> {
  const text = await printMarqueeSchema();
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
  if (current === text) return false;
  fs.writeFileSync(file, text);
  return true;
}

if (require.main === module) {
  writeSchemaFile(process.argv[2] ? path.resolve(process.argv[2]) : SCHEMA_FILE)
    .then((changed) => process.stdout.write(`schema.graphql ${changed ? 'written' : 'unchanged'}\n`))
    .catch((err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    });
}
