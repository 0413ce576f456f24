import type { McpConfig } from '../config';

/**
 * The MCP server's only way into Marquee: GraphQL over HTTP, like any other client. It never opens
 * the database, so it runs beside any Marquee deployment it can reach.
 */

/** An error the API answered with (its `extensions.code` and `reason`), or the API being unreachable. */
export class MarqueeApiError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'MarqueeApiError';
  }
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; reason?: string } }>;
}

export class MarqueeApiClient {
  readonly url: string;
  private readonly apiKey: string | undefined;

  constructor(
    config: McpConfig,
    private readonly timeoutMs = 30_000,
  ) {
    this.url = config.apiUrl;
    this.apiKey = config.apiKey;
  }

  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new MarqueeApiError(`cannot reach the Marquee API at ${this.url} (${cause}); is \`npm start\` running?`, 'SERVICE_UNAVAILABLE', 'API_UNREACHABLE');
    }
    let body: GraphQLResponse<T>;
    try {
      body = (await res.json()) as GraphQLResponse<T>;
    } catch {
      throw new MarqueeApiError(`the Marquee API at ${this.url} answered HTTP ${res.status} without a GraphQL body`, 'INTERNAL_SERVER_ERROR', 'BAD_RESPONSE');
    }
    const first = body.errors?.[0];
    if (first) throw new MarqueeApiError(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.extensions?.reason);
    if (!body.data) throw new MarqueeApiError(`the Marquee API answered HTTP ${res.status} without data`, 'INTERNAL_SERVER_ERROR', 'BAD_RESPONSE');
    return body.data;
  }
}
