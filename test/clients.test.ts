/**
 * The API's clients, end to end on one shared server: the poster explorer in Chromium and the MCP
 * server over stdio (and streamable HTTP). One fixture, so the sample is embedded and trained once.
 */
import { after, before } from 'node:test';
import { explorerSuite } from './clients/explorer';
import { ClientFixture, startClientFixture } from './clients/fixture';
import { mcpSuite } from './clients/mcp';
import { cleanupAll } from './support';

let fixture: ClientFixture;
before(async () => {
  fixture = await startClientFixture();
});
after(async () => {
  await fixture?.stop();
  await cleanupAll();
});

mcpSuite(() => fixture);
explorerSuite(() => fixture);
