// The HTTPS server and the plain-HTTP redirect (src/signal/http.ts, served by startSignal on loopback) under
// raw requests: paths made of traversal pieces ("..", "%2e%2e", "..%2f", "%5c", overlong UTF-8, double encoding,
// NUL), very long ones, query strings and fragments, absolute and asterisk forms, odd methods and versions, and
// headers (odd Hosts, long values, duplicates, WebSocket upgrades). Checked: every request gets a 1xx-4xx answer
// or is dropped by Node's HTTP parser, never a 5xx; a 200 carries one of the web root's own files, never the
// file beside the web root nor a source map; the redirect only ever points at one of this server's names; the
// server still answers /healthz afterwards.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import fc from 'fast-check';
import { MemoryBus } from '../../../src/bus/memory-bus.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { createLogger } from '../../../src/log.ts';
import { hostNames } from '../../../src/signal/host-names.ts';
import { startSignal } from '../../../src/signal/index.ts';
import { loadOrCreateTls } from '../../../src/signal/tls.ts';
import { freeTcpPort } from '../../helpers/ports.ts';
import { ONE_ADDRESS_TEST_CAPS } from '../../helpers/signal-client.ts';
import { serverTarget } from '../harness.ts';

export interface HttpInput {
  port: 'https' | 'http';
  method: string;
  /** The request target: path pieces joined by '/', a query and fragment; or given as it is. */
  target: { pieces: string[]; leading: string; query: string | null } | { raw: string };
  version: string;
  host: string | null;
  headers: [string, string][];
  body: string | null;
}

const SECRET = 'SECRET-BESIDE-THE-WEB-ROOT';
const MAP_SOURCE = 'SOURCE-MAP-CONTENTS';
/** What both ports answer a request Node cannot parse (src/net/http-client-error.ts); anything else on the plain port is redirected. */
const CLIENT_ERRORS = new Set([400, 408, 431]);

const PIECES = [
  '..', '.', '...', '%2e%2e', '%2E%2E', '%2e.', '.%2e', '..%2f', '..%2F', '%2f', '%2F', '%5c', '..%5c', '\\', '..\\',
  '%00', '%00.html', '%c0%ae%c0%ae', '%e0%80%ae', '%252e%252e', '%25', '%', '%zz', '%u002e', 'secret.txt', '..%2fsecret.txt',
  'web.txt', 'assets', 'app-1234.js', 'app-1234.js.map', 'APP-1234.JS.MAP', 'index.html', 'healthz', 'HealthZ', 'web', 'ws',
  'MyRoom', 'Sala%C3%91', 'ñ', '%F0%9F%98%80', ';', '~', '.git', '%0d%0aX-Injected:%201', '?', '#',
];
const HOSTS = ['127.0.0.1', 'localhost', '[::1]', 'evil.example', 'evil.example:8443', '203.0.113.9', '', ' ', 'a b', 'LOCALHOST.', '[::ffff:127.0.0.1]', 'x'.repeat(300)];
const HEADER_NAMES = ['Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Origin', 'Range', 'If-Modified-Since', 'Accept-Encoding', 'X-Forwarded-For', 'Cookie'];

/** null five times in six. */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ arbitrary: fc.constant(null), weight: 5 }, { arbitrary: a, weight: 1 });

const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...PIECES), weight: 30 },
  { arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent), weight: 5 },
  { arbitrary: fc.nat({ max: 20_000 }).map((n) => 'a'.repeat(n)), weight: 1 },
);
const TOKEN = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&*+^`|~'];

/** Mostly a request Node's parser takes (so the handlers see it), now and then one it refuses. */
const input: fc.Arbitrary<HttpInput> = fc.record({
  port: fc.oneof({ arbitrary: fc.constant('https' as const), weight: 3 }, { arbitrary: fc.constant('http' as const), weight: 1 }),
  method: fc.oneof({ arbitrary: fc.constant('GET'), weight: 12 }, { arbitrary: fc.constantFrom('HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'), weight: 3 }, { arbitrary: fc.constantFrom('CONNECT', 'PRI', 'get', 'GET\u0000', 'BREW'), weight: 1 }),
  target: fc.oneof(
    { arbitrary: fc.record({ pieces: fc.array(piece, { maxLength: 8 }), leading: fc.constantFrom('/', '//', '/./', ''), query: fc.option(fc.string({ maxLength: 30 }).map(encodeURI)) }), weight: 12 },
    { arbitrary: fc.record({ raw: fc.constantFrom('*', 'http://evil.example/', 'https://127.0.0.1/../secret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt', '/\u0000', '/a b') }), weight: 2 },
    { arbitrary: fc.record({ raw: fc.string({ maxLength: 40, unit: 'binary' }) }), weight: 1 },
  ),
  version: fc.oneof({ arbitrary: fc.constant('HTTP/1.1'), weight: 12 }, { arbitrary: fc.constant('HTTP/1.0'), weight: 2 }, { arbitrary: fc.constantFrom('HTTP/2.0', 'HTTP/1.1 ', 'http/1.1', 'HTTP/0.9', ''), weight: 1 }),
  host: rarely(fc.constantFrom(...HOSTS)),
  headers: fc.array(
    fc.tuple(
      fc.oneof({ arbitrary: fc.constantFrom(...HEADER_NAMES), weight: 6 }, { arbitrary: fc.string({ unit: fc.constantFrom(...TOKEN), minLength: 1, maxLength: 20 }), weight: 2 }, { arbitrary: fc.string({ minLength: 1, maxLength: 20 }), weight: 1 }),
      fc.oneof(
        { arbitrary: fc.constantFrom('websocket', 'Upgrade', 'dGhlIHNhbXBsZSBub25jZQ==', '13', 'bytes=0-5', 'chunked', '0', 'https://evil.example', 'gzip'), weight: 12 },
        { arbitrary: fc.string({ maxLength: 40 }), weight: 6 },
        { arbitrary: fc.nat({ max: 20_000 }).map((n) => 'v'.repeat(n)), weight: 1 },
      ),
    ),
    { maxLength: 4 },
  ),
  body: rarely(fc.string({ maxLength: 100 })),
});

function requestText(i: HttpInput, port: number): string {
  const target =
    'raw' in i.target ? i.target.raw : i.target.leading + i.target.pieces.join('/') + (i.target.query === null ? '' : `?${i.target.query}`);
  const lines = [`${i.method} ${target} ${i.version}`];
  lines.push(`Host: ${i.host === null ? `127.0.0.1:${port}` : i.host}`);
  // a body is always as long as its Content-Length says (a request left waiting for more is not the point here)
  for (const [k, v] of i.headers) if (!/^(content-length|transfer-encoding)$/i.test(k.trim())) lines.push(`${k}: ${v}`);
  if (i.body !== null) lines.push(`Content-Length: ${Buffer.byteLength(i.body)}`);
  lines.push('Connection: close');
  return lines.join('\r\n') + '\r\n\r\n' + (i.body ?? '');
}

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Sends raw bytes and reads the answer (null: the server closed without one). A 101 is cut right away. */
function exchange(secure: boolean, port: number, request: string): Promise<Answer | null> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }) : net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in 5 s to ${JSON.stringify(request.slice(0, 200))}`));
    }, 5000);
    const finish = () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (all.length === 0) return resolve(null);
      const head = all.subarray(0, end < 0 ? all.length : end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '');
      if (!m) return reject(new Error(`not an HTTP answer: ${JSON.stringify(head[0])}`));
      const headers = new Map<string, string>();
      for (const l of head.slice(1)) {
        const c = l.indexOf(':');
        if (c > 0) headers.set(l.slice(0, c).toLowerCase(), l.slice(c + 1).trim());
      }
      resolve({ status: Number(m[1]), headers, body: end < 0 ? Buffer.alloc(0) : all.subarray(end + 4) });
    };
    socket.on(secure ? 'secureConnect' : 'connect', () => socket.write(request, 'latin1'));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (/^HTTP\/1\.1 101/.test(Buffer.concat(chunks).toString('latin1', 0, 16))) socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', finish);
  });
}

export const httpTarget = serverTarget<HttpInput>({
  name: 'http',
  about: 'HTTPS static server and HTTP redirect under raw requests: never a 5xx, never a file outside the web root',
  input,
  ciRuns: 100,
  async open() {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-fuzz-http-'));
    const webRoot = path.join(tmp, 'web');
    mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
    const files: Record<string, string> = {
      'index.html': '<!doctype html><title>Tertulia</title><div id="root"></div>',
      'assets/app-1234.js': 'console.log("app")',
      'assets/app-1234.css': 'body{}',
      'assets/app-1234.js.map': `{"version":3,"sources":["${MAP_SOURCE}"]}`,
    };
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(webRoot, f), text);
    writeFileSync(path.join(tmp, 'secret.txt'), SECRET);
    writeFileSync(path.join(tmp, 'web.txt'), SECRET); // a sibling whose name starts like the web root's
    const config = loadConfig({
      env: { TERTULIA_CONFIG: '' },
      overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: await freeTcpPort(), dataDir: path.join(tmp, 'data'), logLevel: 'silent', ...ONE_ADDRESS_TEST_CAPS },
    });
    const log = createLogger('silent');
    const server = await startSignal({ bus: new MemoryBus(), config, log, webRoot });
    const material = await loadOrCreateTls(config, log);
    const hosts = hostNames(config, { pem: material.cert, selfSigned: material.selfSigned });
    const served = new Set([...Object.entries(files).filter(([f]) => !f.endsWith('.map')).map(([, t]) => t), JSON.stringify({ ok: true })]);
    return {
      async check(i) {
        const secure = i.port === 'https';
        const port = secure ? server.httpsPort : server.httpPort;
        const a = await exchange(secure, port, requestText(i, port));
        if (a !== null) {
          assert.ok(a.status >= 100 && a.status < 500, `answered ${a.status}`);
          const body = a.body.toString('latin1');
          assert.ok(!body.includes(SECRET), 'a file outside the web root was served');
          assert.ok(!body.includes(MAP_SOURCE), 'a source map was served');
          if (secure && a.status === 200 && i.method !== 'HEAD') assert.ok(served.has(a.body.toString('utf8')), `a 200 with a body that is no file of the web root: ${body.slice(0, 80)}`);
          if (!secure && !CLIENT_ERRORS.has(a.status)) {
            assert.equal(a.status, 301);
            const location = a.headers.get('location') ?? '';
            const m = /^https:\/\/(\[[^\]]*\]|[^:/]*):(\d+)(\/.*)?$/.exec(location);
            assert.ok(m, `redirect to ${location}`);
            assert.equal(Number(m[2]), server.httpsPort);
            assert.ok(hosts.known(m[1]!) || m[1] === hosts.canonical, `redirect to a host that is not this server's: ${m[1]}`);
          }
          assert.ok(!a.headers.has('x-injected'), 'a header was injected');
        }
        const health = await exchange(true, server.httpsPort, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
        assert.equal(health?.status, 200, 'the server stopped answering /healthz');
      },
      async close() {
        await server.close();
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  },
});
