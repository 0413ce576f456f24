import { MarqueeApiClient } from './api-client';
import { serveHttp, serveStdio } from './server';

export const DEFAULT_MCP_PORT = 4100;

export interface McpOptions {
  http: boolean;
  host?: string;
  port?: number;
}

/** `marquee mcp [--http] [--host H] [--port N]`: runs until stdin closes (stdio) or a signal (HTTP). */
export async function runMcp(opts: McpOptions, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const api = MarqueeApiClient.fromEnv(env);
  if (!opts.http) return serveStdio(api);
  const served = await serveHttp(api, opts.host ?? '127.0.0.1', opts.port ?? DEFAULT_MCP_PORT);
  const stop = () => void served.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const num = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number.parseInt(argv[i + 1], 10) : undefined;
  };
  const i = argv.indexOf('--host');
  runMcp({ http: argv.includes('--http'), port: num('--port'), host: i >= 0 ? argv[i + 1] : undefined }).catch((err: Error) => {
    process.stderr.write(`marquee mcp: ${err.message}\n`);
    process.exit(1);
  });
}
