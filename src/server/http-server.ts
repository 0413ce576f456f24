import fs from 'node:fs';
import http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError } from 'graphql';
import type { App } from '../app';
import { ServiceContainer } from '../container';
import type { Role } from '../domain/api-key';
import { SchemaMapper } from '../schema/mapper';
import { createContext, type RequestContext } from './context';
import { makeFormatError } from './format-error';
import { jitGateway } from './jit-executor';
import { queryCostPlugin, queryDepthRule } from './query-limits';
import { buildMarqueeSchema } from './schema';
import { WebAssets } from './web-assets';

export const MAX_BODY_BYTES = 16 * 1024 * 1024; // a base64 poster (10 MB) plus the query
export const MAX_BATCH = 10;
/** After a stop begins, requests are still served this long (they were sent before it), then refused. */
const ACCEPT_GRACE_MS = 2000;
/** The largest response body sent; a bigger one is replaced by a RESPONSE_TOO_LARGE error. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface ServerOptions {
  log?: (msg: string) => void;
  maxDepth?: number;
  maxCost?: number;
  maxResponseBytes?: number;
  /** Overrides NODE_ENV=production (introspection and stack traces off). */
  production?: boolean;
  /** The built poster explorer served at `/` (default dist/web). */
  webRoot?: string;
}

/** The HTTP front: /graphql (Apollo), /posters/<sha>.<ext>, /healthz, /readyz, and the poster explorer at every other path. */
export class MarqueeServer {
  private httpServer?: http.Server;
  private apollo?: ApolloServer<RequestContext>;
  private inFlight = 0;
  private closing = false;
  private closingSince = 0;
  private readonly web: WebAssets;

  constructor(
    private readonly app: App,
    private readonly opts: ServerOptions = {},
  ) {
    this.web = new WebAssets(opts.webRoot);
  }

  get log(): (msg: string) => void {
    return this.opts.log ?? ((m) => process.stderr.write(`${m}\n`));
  }

  async start(host: string, port: number): Promise<{ url: string; port: number }> {
    const production = this.opts.production ?? this.app.config.server.production;
    // The app's services, plus the GraphQL mapper that needs this server's public URL.
    const container = new ServiceContainer(this.app.container).register(SchemaMapper, new SchemaMapper(this.app.config.server.publicUrl));
    const schema = await buildMarqueeSchema(container);
    this.apollo = new ApolloServer<RequestContext>({
      gateway: jitGateway(schema),
      introspection: !production,
      includeStacktraceInErrorResponses: !production,
      allowBatchedHttpRequests: true,
      csrfPrevention: true,
      // We drain and stop ourselves on SIGTERM; Apollo's own handler would re-raise the signal mid-drain.
      stopOnTerminationSignals: false,
      validationRules: [queryDepthRule({ maxDepth: this.opts.maxDepth ?? 8 })],
      formatError: makeFormatError(production, this.log),
      // The default cache-control plugin instruments every resolved field; we set no cache hints.
      // The cost (with the request's variables, summed over a batch) is checked once the operation is known.
      plugins: [ApolloServerPluginCacheControlDisabled(), queryCostPlugin<RequestContext>({ maxCost: this.opts.maxCost ?? 20_000 })],
    });
    await this.apollo.start();
    this.httpServer = http.createServer((req, res) => {
      this.inFlight++;
      res.on('close', () => this.inFlight--);
      this.handle(req, res).catch((err) => {
        this.log(`request failed: ${(err as Error).stack}`);
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
        else res.end();
      });
    });
    this.httpServer.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      this.httpServer!.once('error', reject);
      this.httpServer!.listen(port, host, () => resolve());
    });
    const addr = this.httpServer.address() as { port: number };
    return { url: `http://${host}:${addr.port}/graphql`, port: addr.port };
  }

  /**
   * Graceful stop: in-flight requests finish (up to `graceMs`), then the connections close. The
   * listening socket stays open for the first two seconds: requests a client sent just before the
   * signal may still wait in the accept queue or a socket buffer, and closing the listener would
   * reset them. They are answered as usual (with `Connection: close`); requests that arrive later
   * get 503 SERVICE_UNAVAILABLE. No connection is closed early as "idle": one whose request bytes
   * the loop has not parsed yet looks idle, and closing it cut requests already sent.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.closing) this.closingSince = Date.now();
    this.closing = true;
    if (this.httpServer) {
      const deadline = Date.now() + graceMs;
      const settle = this.closingSince + ACCEPT_GRACE_MS;
      while ((this.inFlight > 0 || Date.now() < settle) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const closed = new Promise<void>((resolve) => this.httpServer!.close(() => resolve()));
      this.httpServer.closeAllConnections();
      await closed;
    }
    await this.apollo?.stop();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (this.cors(req, res)) return;
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') return this.readyz(res);
    if (url.pathname.startsWith('/posters/')) {
      try {
        await this.authenticate(req);
      } catch (err) {
        return sendJson(res, 401, { error: (err as Error).message });
      }
      return this.poster(url.pathname, req, res);
    }
    if (url.pathname !== '/graphql') {
      if (await this.web.handle(url.pathname, req, res)) return;
      return sendJson(res, 404, { error: 'not found' });
    }
    if (this.closing) {
      res.setHeader('connection', 'close');
      if (Date.now() - this.closingSince > ACCEPT_GRACE_MS) {
        return sendJson(res, 503, { errors: [{ message: 'server is shutting down', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
      }
    }

    let body: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, MAX_BODY_BYTES);
      } catch (err) {
        return sendJson(res, 413, { errors: [{ message: (err as Error).message, extensions: { code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' } }] });
      }
      const type = req.headers['content-type'] ?? '';
      if (type.includes('application/json')) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          return sendJson(res, 400, { errors: [{ message: 'malformed JSON body', extensions: { code: 'BAD_USER_INPUT', reason: 'MALFORMED_JSON' } }] });
        }
        if (Array.isArray(body) && body.length > MAX_BATCH) {
          return sendJson(res, 400, {
            errors: [{ message: `at most ${MAX_BATCH} operations per batch`, extensions: { code: 'BAD_USER_INPUT', reason: 'BATCH_TOO_LARGE' } }],
          });
        }
      } else {
        body = raw.toString('utf8');
      }
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const result = await this.apollo!.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body },
      context: async () => createContext(this.app.models, await this.authenticate(req)),
    });
    const maxResponse = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    if (result.body.kind === 'complete' && Buffer.byteLength(result.body.string) > maxResponse) {
      return sendJson(res, 400, {
        errors: [
          {
            message: `the response would be over ${maxResponse} bytes; ask for fewer fields or smaller pages`,
            extensions: { code: 'BAD_USER_INPUT', reason: 'RESPONSE_TOO_LARGE' },
          },
        ],
      });
    }
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  private async authenticate(req: http.IncomingMessage): Promise<Role | null> {
    const header = req.headers.authorization;
    if (!header) {
      if (this.app.config.server.requireKey) throw unauthenticated('an API key is required (Authorization: Bearer <key>)');
      return null;
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw unauthenticated('malformed Authorization header; expected "Bearer <key>"');
    const role = await this.app.apiKeys.verify(m[1]);
    if (!role) throw unauthenticated('unknown or revoked API key');
    return role;
  }

  private async readyz(res: http.ServerResponse): Promise<void> {
    const r = await this.app.status.readiness();
    if (r.ready) return sendJson(res, 200, { status: 'ready', database: r.database });
    return sendJson(res, 503, { status: r.status, database: r.database, ...(r.error ? { error: r.error } : {}) });
  }

  private async poster(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const served = this.app.posters.servedFile(pathname.slice('/posters/'.length));
    if (!served || (req.method !== 'GET' && req.method !== 'HEAD')) return sendJson(res, 404, { error: 'not found' });
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(served.path);
    } catch {
      return sendJson(res, 404, { error: 'not found' });
    }
    // Content-addressed: the bytes behind a name never change.
    res.writeHead(200, {
      'content-type': served.mime,
      'content-length': stat.size,
      'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${served.sha256}"`,
    });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(served.path).pipe(res);
  }

  /** CORS for the origins in MARQUEE_CORS_ORIGINS only; answers preflights. Returns true when handled. */
  private cors(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const origin = req.headers.origin;
    const allowed = origin && (this.app.config.server.corsOrigins.includes(origin) || this.app.config.server.corsOrigins.includes('*'));
    if (allowed) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-allow-headers', 'content-type, authorization, apollo-require-preflight');
      res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      res.setHeader('access-control-max-age', '600');
    }
    if (req.method === 'OPTIONS') {
      res.statusCode = allowed ? 204 : 403;
      res.end();
      return true;
    }
    return false;
  }
}

function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    throw new Error(`request body over ${max} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw new Error(`request body over ${max} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
