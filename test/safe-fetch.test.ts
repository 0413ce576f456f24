/**
 * fetchImage / assertSafeUrl / isForbiddenAddress. Every server here listens on 127.0.0.1 only; nothing
 * else is ever connected to (forbidden addresses are refused before any socket opens, which the request
 * and connection counts prove).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import sharp from 'sharp';
import { AppError } from '../src/errors';
import { assertSafeUrl, fetchImage, isForbiddenAddress, type ResolvedAddress, type Resolver, type SafeTarget } from '../src/net/safe-fetch';

// ---------------------------------------------------------------------------------------------
// helpers

interface TestServer {
  url: string;
  port: number;
  requests: http.IncomingMessage[];
  connections: number;
}

const servers: { close(): void }[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer();
  const state: TestServer = { url: '', port: 0, requests: [], connections: 0 };
  server.on('connection', () => state.connections++);
  server.on('request', (req, res) => {
    state.requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return state;
}

/** A TCP server that accepts connections and never says anything. */
async function silentServer(): Promise<{ port: number; connections: number }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, connections: 0 };
  const server = net.createServer((s) => {
    state.connections++;
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  servers.push({
    close: () => {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  });
  return state;
}

async function expectReason(p: Promise<unknown>, reason: string): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, `expected AppError, got ${String(e)}`);
    assert.equal(e.code, 'BAD_USER_INPUT');
    assert.equal(e.reason, reason, `reason of: ${e.message}`);
    assert.ok(e.message.length > 10, 'a clear message');
    return e;
  }
  assert.fail(`expected a rejection with reason ${reason}`);
}

let pngBytes: Buffer;
let jpegBytes: Buffer;
const image = sharp({ create: { width: 8, height: 12, channels: 3, background: { r: 200, g: 30, b: 60 } } });
const ready = (async () => {
  pngBytes = await image.clone().png().toBuffer();
  jpegBytes = await image.clone().jpeg().toBuffer();
})();

const servePng: http.RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': pngBytes.length });
  res.end(pngBytes);
};

// ---------------------------------------------------------------------------------------------

describe('isForbiddenAddress', () => {
  const forbidden = [
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.2.10',
    '198.51.100.7',
    '203.0.113.9',
    '198.18.0.1',
    '192.0.0.8',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.1.2.3',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:192.168.0.1',
    '::127.0.0.1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'fc00::1',
    'fd12:3456:789a::1',
    'ff02::1',
    'ff05::2',
    'fec0::1',
    '2001:db8::1',
    '64:ff9b::7f00:1',
    '64:ff9b::10.0.0.1',
    '2002:7f00:1::1',
    '2002:c0a8:101::',
    '2001::1',
    '100::1',
    '3fff::1',
    '[::1]',
    'not-an-ip',
    '',
    '1.2.3',
    '256.1.1.1',
    'localhost',
    '::ffff:999.1.1.1',
  ];
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '192.169.0.1',
    '11.0.0.1',
    '223.255.255.254',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '[2606:4700:4700::1111]',
  ];
  for (const ip of forbidden) test(`forbidden: ${JSON.stringify(ip)}`, () => assert.equal(isForbiddenAddress(ip), true));
  for (const ip of allowed) test(`allowed: ${ip}`, () => assert.equal(isForbiddenAddress(ip), false));
});

describe('assertSafeUrl', () => {
  test('only http and https', async () => {
    for (const u of ['ftp://127.0.0.1/x.png', 'file:///etc/passwd', 'data:image/png;base64,AA==', 'gopher://x/', 'javascript:alert(1)']) {
      await expectReason(assertSafeUrl(u, true), 'URL_SCHEME');
    }
    await expectReason(assertSafeUrl('not a url', true), 'URL_INVALID');
  });

  test('literal forbidden addresses, in every spelling the URL parser accepts', async () => {
    for (const u of [
      'http://127.0.0.1/',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://0x7f.1/',
      'http://2130706433/',
      'http://017700000001/',
      'https://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/',
      'http://[::]/',
      'http://10.1.1.1/',
      'http://[fd00::1]/',
    ]) {
      await expectReason(assertSafeUrl(u, false), 'URL_FORBIDDEN');
    }
    const ok = await assertSafeUrl('http://127.0.0.1:9/x', true);
    assert.deepEqual([ok.address, ok.family], ['127.0.0.1', 4]);
  });

  test('host names are judged by every address they resolve to', async () => {
    const fake =
      (answers: Record<string, string[]>): Resolver =>
      (h) => {
        if (!(h in answers)) return Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
        return Promise.resolve(answers[h].map((address): ResolvedAddress => ({ address, family: net.isIPv6(address) ? 6 : 4 })));
      };
    const resolve = fake({
      'public.test': ['93.184.216.34', '2606:2800:220:1::1'],
      'mixed.test': ['93.184.216.34', '10.0.0.5'],
      'v6local.test': ['fe80::1'],
      'mapped.test': ['::ffff:192.168.0.1'],
      'empty.test': [],
    });
    const t = await assertSafeUrl('https://public.test/p.jpg', false, resolve);
    assert.deepEqual([t.address, t.family, t.url.hostname], ['93.184.216.34', 4, 'public.test']);
    await expectReason(assertSafeUrl('http://mixed.test/', false, resolve), 'URL_FORBIDDEN');
    await expectReason(assertSafeUrl('http://v6local.test/', false, resolve), 'URL_FORBIDDEN');
    await expectReason(assertSafeUrl('http://mapped.test/', false, resolve), 'URL_FORBIDDEN');
    await expectReason(assertSafeUrl('http://gone.test/', false, resolve), 'URL_UNRESOLVABLE');
    await expectReason(assertSafeUrl('http://empty.test/', false, resolve), 'URL_UNRESOLVABLE');
    // allowPrivate lets the private answer through
    assert.equal((await assertSafeUrl('http://mixed.test/', true, resolve)).address, '93.184.216.34');
  });

  test('the system resolver: localhost is loopback, so refused', async () => {
    await expectReason(assertSafeUrl('http://localhost/', false), 'URL_FORBIDDEN');
  });
});

describe('fetchImage', () => {
  test('loopback is refused by default, before any connection', async () => {
    await ready;
    const s = await serve(servePng);
    await expectReason(fetchImage(`${s.url}/poster.png`), 'URL_FORBIDDEN');
    await expectReason(fetchImage(`http://localhost:${s.port}/poster.png`), 'URL_FORBIDDEN');
    await expectReason(fetchImage(`http://[::ffff:127.0.0.1]:${s.port}/poster.png`), 'URL_FORBIDDEN');
    assert.equal(s.requests.length, 0);
    assert.equal(s.connections, 0);
  });

  test('with allowPrivate, a PNG and a JPEG are fetched', async () => {
    await ready;
    const s = await serve((req, res) => {
      if (req.url === '/a.png') return servePng(req, res);
      res.writeHead(200, { 'content-type': 'Image/JPEG; charset=binary' }); // no length: chunked
      res.write(jpegBytes.subarray(0, 10));
      res.end(jpegBytes.subarray(10));
    });
    const png = await fetchImage(`${s.url}/a.png`, { allowPrivate: true });
    assert.ok(png.bytes.equals(pngBytes));
    assert.equal(png.contentType, 'image/png');
    assert.equal(png.finalUrl, `${s.url}/a.png`);
    assert.deepEqual(
      await sharp(png.bytes)
        .metadata()
        .then((m) => [m.format, m.width, m.height]),
      ['png', 8, 12],
    );

    const jpg = await fetchImage(`${s.url}/b.jpg?size=large`, { allowPrivate: true });
    assert.ok(jpg.bytes.equals(jpegBytes));
    assert.equal(jpg.contentType, 'image/jpeg');
    assert.equal(s.requests[1].url, '/b.jpg?size=large');
    assert.equal(s.requests[1].headers.accept, 'image/*');
  });

  test('connects to the vetted address, with the host name in Host', async () => {
    await ready;
    const s = await serve(servePng);
    const asked: string[] = [];
    // poster.test does not exist in real DNS: only the vetted address can be connected to.
    const resolve: Resolver = (h) => {
      asked.push(h);
      return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
    };
    const got = await fetchImage(`http://poster.test:${s.port}/p.png`, { allowPrivate: true, resolve });
    assert.ok(got.bytes.equals(pngBytes));
    assert.deepEqual(asked, ['poster.test']); // one look-up, no second chance to rebind
    assert.equal(s.requests[0].headers.host, `poster.test:${s.port}`);

    // Without allowPrivate the same answer is refused, and nothing reaches the server.
    await expectReason(fetchImage(`http://poster.test:${s.port}/p.png`, { resolve }), 'URL_FORBIDDEN');
    assert.equal(s.requests.length, 1);
  });

  describe('redirects', () => {
    /** /r/N redirects to /r/N-1 … /r/0 serves the PNG. */
    const chain: http.RequestListener = (req, res) => {
      const n = Number(/^\/r\/(\d+)$/.exec(req.url ?? '')?.[1] ?? NaN);
      if (n > 0) {
        res.writeHead(n % 2 ? 302 : 301, { location: `/r/${n - 1}` }); // relative Location
        res.end('moved');
      } else if (n === 0) servePng(req, res);
      else res.writeHead(404).end();
    };

    test('3 redirects are followed', async () => {
      await ready;
      const s = await serve(chain);
      const got = await fetchImage(`${s.url}/r/3`, { allowPrivate: true });
      assert.ok(got.bytes.equals(pngBytes));
      assert.equal(got.finalUrl, `${s.url}/r/0`);
      assert.deepEqual(
        s.requests.map((r) => r.url),
        ['/r/3', '/r/2', '/r/1', '/r/0'],
      );
    });

    test('a 4th redirect is refused, and not followed', async () => {
      await ready;
      const s = await serve(chain);
      await expectReason(fetchImage(`${s.url}/r/4`, { allowPrivate: true }), 'TOO_MANY_REDIRECTS');
      assert.deepEqual(
        s.requests.map((r) => r.url),
        ['/r/4', '/r/3', '/r/2', '/r/1'],
      );
      await expectReason(fetchImage(`${s.url}/r/1`, { allowPrivate: true, maxRedirects: 0 }), 'TOO_MANY_REDIRECTS');
    });

    test('every hop is checked: a redirect to a forbidden address is refused before connecting', async () => {
      await ready;
      const inside = await serve(servePng); // stands for an internal service
      const outside = await serve((_req, res) => {
        res.writeHead(307, { location: `http://127.0.0.1:${inside.port}/secret.png` });
        res.end();
      });
      const hops: string[] = [];
      // Hop 0 stands for a public server (the only place we may listen is loopback, so it is let
      // through by hand); every later hop gets the real default check.
      const checkHop = (u: URL, hop: number): Promise<SafeTarget> => {
        hops.push(`${hop} ${u.href}`);
        return assertSafeUrl(u, hop === 0);
      };
      await expectReason(fetchImage(`${outside.url}/p.png`, { checkHop }), 'URL_FORBIDDEN');
      assert.deepEqual(hops, [`0 ${outside.url}/p.png`, `1 http://127.0.0.1:${inside.port}/secret.png`]);
      assert.equal(outside.requests.length, 1);
      assert.equal(inside.connections, 0);
    });

    test('a redirect to another scheme is refused', async () => {
      const s = await serve((_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end());
      await expectReason(fetchImage(`${s.url}/x`, { allowPrivate: true }), 'URL_SCHEME');
    });
  });

  test('total timeout: a server that never answers', async () => {
    const s = await silentServer();
    const t0 = Date.now();
    await expectReason(fetchImage(`http://127.0.0.1:${s.port}/p.png`, { allowPrivate: true, timeoutMs: 200 }), 'URL_TIMEOUT');
    const took = Date.now() - t0;
    assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
    assert.equal(s.connections, 1);
  });

  test('total timeout: a body that stalls, and a chain of slow redirects', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/stall') {
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(Buffer.alloc(100)); // then nothing
      } else {
        const n = Number(req.url?.slice(1));
        setTimeout(() => res.writeHead(302, { location: `/${n + 1}` }).end(), 120);
      }
    });
    await expectReason(fetchImage(`${s.url}/stall`, { allowPrivate: true, timeoutMs: 200 }), 'URL_TIMEOUT');
    // each hop takes 120 ms: three hops cannot fit in 300 ms though no single one is slow
    await expectReason(fetchImage(`${s.url}/0`, { allowPrivate: true, timeoutMs: 300 }), 'URL_TIMEOUT');
  });

  test('size cap from Content-Length, before the body arrives', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 5000 });
      res.write(Buffer.alloc(10)); // and stalls: only the header can tell
    });
    const t0 = Date.now();
    const e = await expectReason(fetchImage(`${s.url}/big.png`, { allowPrivate: true, maxBytes: 1000, timeoutMs: 3000 }), 'PAYLOAD_TOO_LARGE');
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(e.details?.maxBytes, 1000);
  });

  test('size cap while streaming a body without length', async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' }); // chunked
      if (req.url === '/exact') return res.end(Buffer.alloc(1000, 7));
      res.write(Buffer.alloc(600));
      res.write(Buffer.alloc(600)); // 1200 > 1000, then stalls: only the streaming count can tell
    });
    await expectReason(fetchImage(`${s.url}/chunked`, { allowPrivate: true, maxBytes: 1000, timeoutMs: 3000 }), 'PAYLOAD_TOO_LARGE');
    const exact = await fetchImage(`${s.url}/exact`, { allowPrivate: true, maxBytes: 1000 });
    assert.equal(exact.bytes.length, 1000);
  });

  test('the content type must be image/*', async () => {
    const s = await serve((req, res) => {
      if (req.url === '/none') {
        res.removeHeader('content-type');
        return res.writeHead(200).end(pngBytes);
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html></html>');
    });
    await ready;
    const e = await expectReason(fetchImage(`${s.url}/page`, { allowPrivate: true }), 'NOT_AN_IMAGE');
    assert.match(e.message, /text\/html/);
    await expectReason(fetchImage(`${s.url}/none`, { allowPrivate: true }), 'NOT_AN_IMAGE');
  });

  test('non-2xx is URL_HTTP_ERROR with the status', async () => {
    const s = await serve((req, res) => {
      const status = Number(req.url?.slice(1));
      res.writeHead(status, { 'content-type': 'image/png' }).end('x');
    });
    for (const status of [404, 500, 304]) {
      const e = await expectReason(fetchImage(`${s.url}/${status}`, { allowPrivate: true }), 'URL_HTTP_ERROR');
      assert.equal(e.details?.status, status);
      assert.match(e.message, new RegExp(String(status)));
    }
  });

  test('schemes other than http(s) are refused', async () => {
    await expectReason(fetchImage('ftp://127.0.0.1/p.png', { allowPrivate: true }), 'URL_SCHEME');
    await expectReason(fetchImage('file:///etc/passwd', { allowPrivate: true }), 'URL_SCHEME');
    await expectReason(fetchImage('nonsense', { allowPrivate: true }), 'URL_INVALID');
  });

  test('a closed port is URL_UNREACHABLE', async () => {
    const s = await silentServer();
    const port = s.port;
    servers.pop()?.close();
    await new Promise((r) => setTimeout(r, 20));
    await expectReason(fetchImage(`http://127.0.0.1:${port}/p.png`, { allowPrivate: true }), 'URL_UNREACHABLE');
  });
});
