/**
 * Fetching poster images from user-supplied URLs (GraphQL `imageUrl`, CSV `img_url`) without letting the
 * caller reach the service's own network (SSRF).
 *
 * - http and https only;
 * - every hop's host is resolved here and refused when any of its addresses is not a public unicast
 *   address (see `isForbiddenAddress`), unless `allowPrivate`;
 * - the connection goes to exactly the address that was checked (a pinned `lookup`), so a second DNS
 *   answer cannot swap in another address (DNS rebinding); Host header and TLS SNI stay the hostname;
 * - redirects are followed by hand, each hop checked again, at most `maxRedirects`;
 * - one deadline covers the DNS look-ups, connections, redirects and the body;
 * - the size cap applies to Content-Length and, while streaming, to the bytes actually received.
 *
 * Every refusal is `AppError('BAD_USER_INPUT', message, reason)` with reason one of
 * URL_INVALID, URL_SCHEME, URL_FORBIDDEN, URL_UNRESOLVABLE, URL_UNREACHABLE, URL_TIMEOUT,
 * TOO_MANY_REDIRECTS, URL_HTTP_ERROR (details.status), PAYLOAD_TOO_LARGE, NOT_AN_IMAGE.
 */
import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { AppError, badInput } from '../errors';
import { MAX_IMAGE_BYTES } from '../ml/image/formats';

export const SAFE_FETCH_DEFAULTS = {
  timeoutMs: 5000,
  maxBytes: MAX_IMAGE_BYTES,
  maxRedirects: 3,
} as const;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to all its addresses (default: `dns.promises.lookup(host, { all: true })`). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** A URL that passed the checks, with the one address to connect to. */
export interface SafeTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

export interface FetchImageOptions {
  /** Allow loopback, private, link-local… addresses (local development, tests). Default false. */
  allowPrivate?: boolean;
  /** Deadline for the whole fetch, redirects included. Default 5000. */
  timeoutMs?: number;
  /** Largest body accepted. Default MAX_IMAGE_BYTES (10 MiB). */
  maxBytes?: number;
  /** Redirects followed at most. Default 3. */
  maxRedirects?: number;
  /** DNS resolver; tests pass a fake one. Default: the system resolver. */
  resolve?: Resolver;
  /**
   * The per-hop check, called for the first URL (hop 0) and for every redirect target. Default:
   * `assertSafeUrl(url, allowPrivate, resolve)`. Tests replace it to prove every hop is checked.
   */
  checkHop?: (url: URL, hop: number) => Promise<SafeTarget>;
}

export interface FetchedImage {
  bytes: Buffer;
  /** The media type from Content-Type, lower case, without parameters (e.g. `image/png`). */
  contentType: string;
  /** The URL the bytes came from, after redirects. */
  finalUrl: string;
}

// ---------------------------------------------------------------------------------------------
// Address policy

type V4Range = [base: number, prefix: number];

const v4 = (dotted: string): number => {
  const parts = dotted.split('.').map(Number);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
};

/** IPv4 ranges that are not globally reachable unicast (IANA special-purpose registry, multicast, reserved). */
const FORBIDDEN_V4: V4Range[] = (
  [
    ['0.0.0.0', 8], // "this network", includes the unspecified 0.0.0.0
    ['10.0.0.0', 8], // private
    ['100.64.0.0', 10], // CGNAT shared address space
    ['127.0.0.0', 8], // loopback
    ['169.254.0.0', 16], // link-local (cloud metadata lives here)
    ['172.16.0.0', 12], // private
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.0.2.0', 24], // TEST-NET-1
    ['192.88.99.0', 24], // 6to4 relay anycast (deprecated)
    ['192.168.0.0', 16], // private
    ['198.18.0.0', 15], // benchmarking
    ['198.51.100.0', 24], // TEST-NET-2
    ['203.0.113.0', 24], // TEST-NET-3
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, includes the broadcast 255.255.255.255
  ] as const
).map(([base, prefix]) => [v4(base), prefix]);

function inV4Range(addr: number, [base, prefix]: V4Range): boolean {
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (addr & mask) >>> 0 === base;
}

function isForbiddenV4(addr: number): boolean {
  return FORBIDDEN_V4.some((r) => inV4Range(addr, r));
}

/** Parses an IPv6 address (compressed or not, optional dotted IPv4 tail) into 8 groups; null when invalid. */
function parseV6(ip: string): number[] | null {
  if (!net.isIPv6(ip)) return null;
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
    if (!net.isIPv4(last)) return null;
    const n = v4(last);
    text = `${text.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const given = head.length + rest.length;
  if (halves.length === 1 && given !== 8) return null;
  if (halves.length === 2 && given > 7) return null;
  const out = [...head, ...new Array<number>(8 - given).fill(0), ...rest];
  return out.length === 8 && out.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? out : null;
}

const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;

function isForbiddenV6(g: number[]): boolean {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  // ::/96 holds :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible addresses.
  if (zeroUpTo(6)) return true;
  // ::ffff:0:0/96 IPv4-mapped: judged as the IPv4 address it stands for.
  if (zeroUpTo(5) && g[5] === 0xffff) return isForbiddenV4(embeddedV4(g[6], g[7]));
  // 64:ff9b::/96 NAT64 (well-known prefix): the translator connects to the embedded IPv4 address.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return isForbiddenV4(embeddedV4(g[6], g[7]));
  }
  // Outside 2000::/3 (global unicast) everything is special: fc00::/7 unique-local, fe80::/10
  // link-local, fec0::/10 site-local, ff00::/8 multicast, 64:ff9b:1::/48 local NAT64, 100::/64
  // discard, 5f00::/16 SRv6, and unallocated space.
  if ((g[0] & 0xe000) !== 0x2000) return true;
  if (g[0] === 0x2001 && g[1] < 0x0200) return true; // 2001::/23 IETF protocol assignments (Teredo, benchmarking, ORCHID…)
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if ((g[0] & 0xfff0) === 0x3ff0) return true; // 3fff::/20 documentation
  if (g[0] === 0x2002) return isForbiddenV4(embeddedV4(g[1], g[2])); // 6to4: the embedded IPv4 address
  return false;
}

/**
 * True when `ip` must not be fetched from by default: loopback, private, CGNAT, link-local, multicast,
 * unspecified, broadcast, documentation, reserved… in IPv4 and IPv6, IPv4-mapped / NAT64 / 6to4 forms
 * judged by their IPv4 address. Anything that is not a valid IP address is forbidden too.
 */
export function isForbiddenAddress(ip: string): boolean {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const noZone = bare.split('%')[0];
  if (net.isIPv4(noZone)) return isForbiddenV4(v4(noZone));
  const groups = parseV6(noZone);
  return groups === null ? true : isForbiddenV6(groups);
}

// ---------------------------------------------------------------------------------------------
// Per-hop check

const systemResolver: Resolver = async (hostname) => {
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** The hostname as the socket layer wants it: IPv6 literals without brackets. */
const bareHost = (url: URL) => (url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname);

/** Display form of a URL for messages: no credentials, no query string. */
const shown = (url: URL) => `${url.protocol}//${url.host}${url.pathname}`;

function parseUrl(input: string | URL): URL {
  if (input instanceof URL) return input;
  try {
    return new URL(input);
  } catch {
    throw badInput('URL_INVALID', `Not a valid URL: ${JSON.stringify(String(input).slice(0, 200))}`);
  }
}

/**
 * Checks one URL: scheme http/https, and (unless `allowPrivate`) every address its host resolves to is a
 * public unicast address. Returns the address to connect to. Throws AppError BAD_USER_INPUT with reason
 * URL_INVALID, URL_SCHEME, URL_UNRESOLVABLE or URL_FORBIDDEN.
 */
export async function assertSafeUrl(input: string | URL, allowPrivate = false, resolve: Resolver = systemResolver): Promise<SafeTarget> {
  const url = parseUrl(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badInput('URL_SCHEME', `Only http and https URLs can be fetched, not ${url.protocol}`);
  }
  const host = bareHost(url);
  let addresses: ResolvedAddress[];
  const literal = net.isIP(host);
  if (literal) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException)?.code;
      throw badInput('URL_UNRESOLVABLE', `Cannot resolve host ${host}${code ? ` (${code})` : ''}`);
    }
    if (addresses.length === 0) throw badInput('URL_UNRESOLVABLE', `Host ${host} has no address`);
  }
  if (!allowPrivate) {
    // Any forbidden answer refuses the host: a mix of public and private answers is a rebinding set-up.
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      throw badInput(
        'URL_FORBIDDEN',
        `Refusing to fetch ${shown(url)}: ${host === bad.address ? 'the address' : `${host} resolves to`} ` +
          `${bad.address}, which is not a public internet address`,
      );
    }
  }
  return { url, address: addresses[0].address, family: addresses[0].family };
}

// ---------------------------------------------------------------------------------------------
// Fetch

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const asError = (e: unknown): Error => (e instanceof Error ? e : new Error(String(e)));

/** Rejects when `signal` aborts; the pending work is left to settle on its own. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(e));
      },
    );
  });
}

/** Sends the GET to the vetted address and resolves with the response head. */
function send(target: SafeTarget, signal: AbortSignal): Promise<http.IncomingMessage> {
  const { url, address, family } = target;
  const host = bareHost(url);
  // Whatever name the socket layer asks for, it gets the address that was checked.
  const pinnedLookup = (_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
  const options: https.RequestOptions = {
    method: 'GET',
    protocol: url.protocol,
    host,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: {
      host: url.host,
      accept: 'image/*',
      'accept-encoding': 'identity',
      'user-agent': 'Marquee/0.1 (poster fetch)',
    },
    lookup: pinnedLookup as unknown as net.LookupFunction,
    agent: false,
    signal,
  };
  if (url.protocol === 'https:' && !net.isIP(host)) options.servername = host;
  if (url.username || url.password) {
    options.auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  }
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readCapped(res: http.IncomingMessage, maxBytes: number, url: URL): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.destroy();
      throw tooLarge(url, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

const tooLarge = (url: URL, maxBytes: number) => badInput('PAYLOAD_TOO_LARGE', `The image at ${shown(url)} is larger than ${maxBytes} bytes`, { maxBytes });

/**
 * Fetches an image from a user-supplied http(s) URL under the SSRF rules above. Resolves with the body,
 * its media type and the final URL; rejects with AppError BAD_USER_INPUT (reason in the module comment).
 */
export async function fetchImage(url: string, opts: FetchImageOptions = {}): Promise<FetchedImage> {
  const allowPrivate = opts.allowPrivate ?? false;
  const timeoutMs = opts.timeoutMs ?? SAFE_FETCH_DEFAULTS.timeoutMs;
  const maxBytes = opts.maxBytes ?? SAFE_FETCH_DEFAULTS.maxBytes;
  const maxRedirects = opts.maxRedirects ?? SAFE_FETCH_DEFAULTS.maxRedirects;
  const resolve = opts.resolve ?? systemResolver;
  const checkHop = opts.checkHop ?? ((u: URL) => assertSafeUrl(u, allowPrivate, resolve));

  let current = parseUrl(url); // before the timer starts: a bad URL must not leave it running
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), timeoutMs);
  const signal = deadline.signal;
  try {
    for (let hop = 0; ; hop++) {
      const target = await raceAbort(checkHop(current, hop), signal);
      current = target.url;
      const res = await send(target, signal);
      const status = res.statusCode ?? 0;

      if (REDIRECTS.has(status) && res.headers.location) {
        res.destroy(); // the redirect's body is not needed
        if (hop >= maxRedirects) {
          throw badInput('TOO_MANY_REDIRECTS', `Too many redirects (more than ${maxRedirects}) fetching ${shown(parseUrl(url))}`, { maxRedirects });
        }
        try {
          current = new URL(res.headers.location, current);
        } catch {
          throw badInput('URL_INVALID', `${shown(current)} redirects to an invalid URL`);
        }
        continue;
      }

      if (status < 200 || status > 299) {
        res.destroy();
        throw badInput('URL_HTTP_ERROR', `Fetching ${shown(current)} failed with HTTP status ${status}`, {
          status,
        });
      }
      const contentType = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!contentType.startsWith('image/')) {
        res.destroy();
        throw badInput('NOT_AN_IMAGE', `${shown(current)} is not an image (Content-Type: ${contentType || 'none'})`, { contentType });
      }
      const declared = Number(res.headers['content-length']);
      if (res.headers['content-length'] !== undefined && Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        throw tooLarge(current, maxBytes);
      }
      const bytes = await readCapped(res, maxBytes, current);
      return { bytes, contentType, finalUrl: current.href };
    }
  } catch (e) {
    if (signal.aborted) {
      throw badInput('URL_TIMEOUT', `Fetching ${shown(current)} took longer than ${timeoutMs} ms`, {
        timeoutMs,
      });
    }
    if (e instanceof AppError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw badInput('URL_UNREACHABLE', `Could not fetch ${shown(current)}: ${err?.code ?? err?.message ?? String(e)}`);
  } finally {
    clearTimeout(timer);
    deadline.abort(); // no-op when already aborted; tears down any socket still open
  }
}
