import type { McpConfig } from '../config';
import { MarqueeApiClient } from './api-client';
import { serveHttp, serveStdio } from './server';

export const DEFAULT_MCP_PORT = 4100;

export interface McpOptions {
  http: boolean;
  host?: string;
  port?: number;
}

/**
 * `marquee mcp [--http] [--host H] [--port N]`: stdio runs until the client closes stdin; HTTP runs
 * until SIGTERM or SIGINT. Resolves once serving.
 */
export async function runMcp(config: McpConfig, opts: McpOptions): Promise<void> {
  const api = new MarqueeApiClient(config);
  if (!opts.http) return serveStdio(api);
  const served = await serveHttp(api, opts.host ?? '127.0.0.1', opts.port ?? DEFAULT_MCP_PORT);
  const stop = () => void served.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
