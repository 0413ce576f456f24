import http from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { MarqueeApiClient } from './api-client';
import { MARQUEE_VERSION } from '../version';
import { registerMarqueeTools } from './tools';

export function createMarqueeMcpServer(api: MarqueeApiClient): McpServer {
  const server = new McpServer(
    { name: 'marquee', title: 'Marquee movie posters', version: MARQUEE_VERSION },
    {
      instructions:
        'Marquee predicts movie genres from posters and recommends movies. Find movie ids with search_movies, ' +
        'then use get_movie, similar_posters, predict_genres and recommend_movies. Errors start with the API error code.',
    },
  );
  registerMarqueeTools(server, api);
  return server;
}

/** stdio: the transport chat clients spawn. stdout carries the protocol, so logs go to stderr. */
export async function serveStdio(api: MarqueeApiClient): Promise<void> {
  const server = createMarqueeMcpServer(api);
  await server.connect(new StdioServerTransport());
  process.stderr.write(`marquee mcp: stdio, API ${api.url}\n`);
}

/**
 * Streamable HTTP at POST /mcp, stateless (a fresh server and transport per request, as the SDK
 * recommends when no session state is kept), JSON responses, Host checked against DNS rebinding.
 */
export async function serveHttp(api: MarqueeApiClient, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const httpServer = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== '/mcp') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found; MCP is at /mcp' }));
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream (GET) and no session to end (DELETE).
      res
        .writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }));
      return;
    }
    const addr = httpServer.address() as { port: number };
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts: [`${host}:${addr.port}`, `localhost:${addr.port}`, `127.0.0.1:${addr.port}`],
    });
    const server = createMarqueeMcpServer(api);
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    server
      .connect(transport)
      .then(() => transport.handleRequest(req, res))
      .catch((err: Error) => {
        process.stderr.write(`marquee mcp: request failed: ${err.stack}\n`);
        if (!res.headersSent)
          res
            .writeHead(500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const addr = httpServer.address() as { port: number };
  const url = `http://${host}:${addr.port}/mcp`;
  process.stderr.write(`marquee mcp: streamable HTTP at ${url}, API ${api.url}\n`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      }),
  };
}
