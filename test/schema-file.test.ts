/**
 * schema.graphql, the API as its clients see it: the committed file matches the resolvers, and
 * every operation the MCP server sends is valid against it. (The explorer's operations are
 * validated against it by GraphQL Code Generator in `npm run build`.)
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { buildSchema, parse, validate } from 'graphql';
import { MCP_OPERATIONS } from '../src/mcp/operations';
import { printMarqueeSchema, SCHEMA_FILE } from '../src/server/schema-file';

test('schema.graphql is what the resolvers print', async () => {
  const current = fs.readFileSync(SCHEMA_FILE, 'utf8');
  assert.ok(current === (await printMarqueeSchema()), 'schema.graphql is stale: run `npm run build` (it rewrites the file) and commit it');
});

test(
  'under CI, the build left schema.graphql as committed',
  { skip: process.env.CI !== 'true' && 'CI only: a build rewrites the file before it is committed' },
  () => {
    const diff = execFileSync('git', ['diff', '--stat', 'HEAD', '--', 'schema.graphql'], { cwd: path.dirname(SCHEMA_FILE), encoding: 'utf8' });
    assert.equal(diff, '', 'the committed schema.graphql differs from the one the build printed: commit the new one');
  },
);

test('every MCP operation is valid against schema.graphql', () => {
  const schema = buildSchema(fs.readFileSync(SCHEMA_FILE, 'utf8'));
  for (const [name, text] of Object.entries(MCP_OPERATIONS)) {
    assert.deepEqual(
      validate(schema, parse(text)).map((e) => e.message),
      [],
      name,
    );
  }
});
