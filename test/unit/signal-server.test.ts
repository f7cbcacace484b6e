// signal over real HTTPS + WebSocket: a temporary data directory and web root, ephemeral ports, and a fake
// focus (bus handlers that record what signal asks for).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { MemoryBus } from '../../src/bus/memory-bus.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { subjects } from '../../src/protocol/bus-messages.ts';
import { MAX_WS_MESSAGE_BYTES } from '../../src/protocol/signal-messages.ts';
import { startSignal, type SignalServer } from '../../src/signal/index.ts';
import { hostNames } from '../../src/signal/host-names.ts';
import { createSelfSigned } from '../../src/signal/tls.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { ONE_ADDRESS_TEST_CAPS, WsClient } from '../helpers/signal-client.ts';

const log = createLogger(process.env.TERTULIA_TEST_LOG_LEVEL ?? 'silent');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tertulia-signal-'));
const webRoot = path.join(tmp, 'web');
mkdirSync(path.join(webRoot, 'assets'), { recursive: true });
writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Tertulia</title><div id="root"></div>');
writeFileSync(path.join(webRoot, 'assets', 'app-1234.js'), 'console.log("app")');
writeFileSync(path.join(webRoot, 'assets', 'app-1234.css'), 'body{}');
writeFileSync(path.join(webRoot, 'assets', 'app-1234.js.map'), '{"version":3,"sources":["../../src/web/secret-source.tsx"]}');
writeFileSync(path.join(tmp, 'secret.txt'), 'TOP SECRET');

function config(overrides: Partial<Record<keyof Config, unknown>>): Config {
  return loadConfig({
    env: { TERTULIA_CONFIG: '' },
    overrides: { listenAddress: '127.0.0.1', httpsPort: 0, httpPort: 0, dataDir: path.join(tmp, 'data'), logLevel: 'silent', ...ONE_ADDRESS_TEST_CAPS, ...overrides },
  });
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(port: number, rawPath: string, method = 'GET', secure = true, host = `127.0.0.1:${port}`): Promise<Got> {
  return new Promise((resolve, reject) => {
    const mod = secure ? https : http;
    const req = mod.request({ host: '127.0.0.1', port, path: rawPath, method, rejectUnauthorized: false, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface FakeFocus {
  calls: { subject: string; payload: any }[];
  waitFor(subject: string, pred?: (p: any) => boolean): Promise<any>;
}

function fakeFocus(bus: MemoryBus): FakeFocus {
  const calls: FakeFocus['calls'] = [];
  const waiters: { subject: string; pred: (p: any) => boolean; resolve: (p: any) => void }[] = [];
  for (const subject of [subjects.focusJoin, subjects.focusAnswer, subjects.focusLeave, subjects.focusMute]) {
    bus.handle(subject, (payload) => {
      calls.push({ subject, payload });
      const i = waiters.findIndex((w) => w.subject === subject && w.pred(payload));
      if (i >= 0) waiters.splice(i, 1)[0]!.resolve(payload);
      if (subject === subjects.focusAnswer && (payload as any).sdp === 'bad') throw new Error('the answer has no ICE credentials');
      return { ok: true };
    });
  }
  return {
    calls,
    waitFor(subject, pred = () => true) {
      const found = calls.find((c) => c.subject === subject && pred(c.payload));
      if (found) return Promise.resolve(found.payload);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${subject} request`)), 3000);
        waiters.push({ subject, pred, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
  };
}

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('signal HTTPS', () => {
  let server: SignalServer;
  let httpPort: number;
  before(async () => {
    httpPort = await freeTcpPort();
    server = await startSignal({ bus: new MemoryBus(), config: config({ httpPort }), log, webRoot });
  });
  after(() => server.close());

  test('returns the real ports', () => {
    assert.ok(server.httpsPort > 0);
    assert.equal(server.httpPort, httpPort);
  });

  test('serves index.html for / and room paths, with security headers and no HSTS', async () => {
    for (const p of ['/', '/MyRoom', '/Sala%C3%91', '/my.room?x=1']) {
      const r = await get(server.httpsPort, p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers['content-type']!, /^text\/html/);
      assert.match(r.body, /<div id="root">/);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      const csp = String(r.headers['content-security-policy']);
      // WebSockets only to this origin (not `wss:` = any host); no <base>; forms only to this origin
      assert.match(csp, new RegExp(`default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' wss://127\\.0\\.0\\.1:${server.httpsPort};`));
      // scripts only from this origin: WebAssembly compiles (the effects), nothing else is evaluated
      assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'[^;]*script|script-src[^;]*'unsafe-inline'/);
      assert.doesNotMatch(csp, /wss:(?!\/\/)|ws:/);
      assert.match(csp, /base-uri 'none'/);
      assert.match(csp, /form-action 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(r.headers['x-frame-options'], 'DENY');
      assert.equal(r.headers['strict-transport-security'], undefined);
    }
  });

  test('serves assets with their content type and a long cache', async () => {
    const js = await get(server.httpsPort, '/assets/app-1234.js');
    assert.equal(js.status, 200);
    assert.match(js.headers['content-type']!, /^text\/javascript/);
    assert.match(js.headers['cache-control']!, /max-age=31536000/);
    assert.equal(js.body, 'console.log("app")');
    const css = await get(server.httpsPort, '/assets/app-1234.css');
    assert.match(css.headers['content-type']!, /^text\/css/);
    assert.equal((await get(server.httpsPort, '/assets/missing.js')).status, 404);
  });

  test('source maps are not served (serveSourceMaps is off by default), nor named in a header', async () => {
    for (const p of ['/assets/app-1234.js.map', '/assets/APP-1234.JS.MAP', '/assets/app-1234.js.map?x=1', '/any.map']) {
      const r = await get(server.httpsPort, p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body, /secret-source/);
    }
    assert.equal((await get(server.httpsPort, '/assets/app-1234.js')).headers.sourcemap, undefined);
  });

  test('a Host header that is not a well-formed host does not reach the policy', async () => {
    const csp = String((await get(server.httpsPort, '/', 'GET', true, "evil.example; script-src 'unsafe-inline'")).headers['content-security-policy']);
    assert.match(csp, /connect-src 'self'; /);
    assert.doesNotMatch(csp, /unsafe-inline'; (?!object)|evil/);
  });

  test('HEAD has headers and no body; other methods get 405', async () => {
    const head = await get(server.httpsPort, '/', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await get(server.httpsPort, '/', m);
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
  });

  test('a request it cannot parse gets 431 (headers past 16 KiB) or 400, and the connection is closed', async () => {
    /** The first line the server answers `request` with, over TLS, or '' when it closes without a word. */
    const firstLine = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = tls.connect({ host: '127.0.0.1', port: server.httpsPort, rejectUnauthorized: false }, () => socket.write(request));
        let got = '';
        socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
        socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
        socket.on('error', reject);
        socket.setTimeout(10_000, () => socket.destroy(new Error('the connection stayed open')));
      });
    assert.equal(await firstLine(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), 'HTTP/1.1 431 Request Header Fields Too Large');
    assert.equal(await firstLine('HELLO THERE\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
    // and the server goes on answering
    assert.equal((await get(server.httpsPort, '/healthz')).status, 200);
  });

  test('/healthz', async () => {
    const r = await get(server.httpsPort, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ok: true });
  });

  test('refuses path traversal', async () => {
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2E%2E/%2e%2e/secret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e/%ZZ/secret.txt',
      '/assets/a%00b',
    ]) {
      const r = await get(server.httpsPort, p);
      assert.equal(r.status, 400, p);
      assert.doesNotMatch(r.body, /TOP SECRET/);
    }
  });

  test('a room link that is not valid percent-encoding or holds NUL gets the app (which says the name is not valid)', async () => {
    for (const p of ['/a%', '/a%00b', '/%E0%A4%A']) {
      const r = await get(server.httpsPort, p);
      assert.equal(r.status, 200, p);
      assert.match(r.body, /<div id="root">/, p);
    }
    // a room link is one segment: a deeper path stays a bad request (/recordings/... among them)
    for (const p of ['/x%00y/secret.txt', '/recordings/REC-1/a%00.mkv', '/assets/%E0%A4%A']) assert.equal((await get(server.httpsPort, p)).status, 400, p);
  });

  test('plain HTTP redirects to HTTPS with the same host and path', async () => {
    const r = await get(httpPort, '/Sala?lang=es', 'GET', false);
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `https://127.0.0.1:${server.httpsPort}/Sala?lang=es`);
    assert.equal((await get(httpPort, '/x', 'GET', false, `LOCALHOST:${httpPort}`)).headers.location, `https://localhost:${server.httpsPort}/x`);
    assert.equal((await get(httpPort, '/x', 'GET', false, `[::1]:${httpPort}`)).headers.location, `https://[::1]:${server.httpsPort}/x`);
  });

  test('the redirect never sends a browser to a host the request made up', async () => {
    // the listen address (127.0.0.1, no publicAddress) is where a forged or malformed Host is sent
    for (const host of ['evil.example', `evil.example:${httpPort}`, 'evil.example:443', 'a b', '', 'localhost.evil.example', '127.0.0.1.evil.example']) {
      const r = await get(httpPort, '/Sala?lang=es', 'GET', false, host);
      assert.equal(r.status, 301, host);
      assert.equal(r.headers.location, `https://127.0.0.1:${server.httpsPort}/Sala?lang=es`, host);
      assert.doesNotMatch(r.body, /evil/);
    }
  });

  test('a second start with the same data directory keeps the certificate (refused while the first runs); the key is private', async () => {
    const fingerprint = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().fingerprint256);
          s.end();
        });
        s.on('error', reject);
      });
    const first = await fingerprint(server.httpsPort);
    // not while the first runs: two servers would share one control socket (and users, certificate)
    await assert.rejects(startSignal({ bus: new MemoryBus(), config: config({}), log, webRoot }), /another Tertulia server runs with the data directory/);
    await server.close();
    const second = await startSignal({ bus: new MemoryBus(), config: config({}), log, webRoot });
    try {
      assert.equal(await fingerprint(second.httpsPort), first);
      assert.equal(second.httpPort, 0, 'httpPort 0 means no redirect server');
    } finally {
      await second.close();
    }
    assert.equal(statSync(path.join(tmp, 'data', 'tls', 'key.pem')).mode & 0o777, 0o600);
  });
});

describe('settings that change what HTTP answers', () => {
  test('serveSourceMaps on: maps are served and named in a SourceMap header', async () => {
    const server = await startSignal({ bus: new MemoryBus(), config: config({ serveSourceMaps: true }), log, webRoot });
    try {
      const map = await get(server.httpsPort, '/assets/app-1234.js.map');
      assert.equal(map.status, 200);
      assert.match(map.headers['content-type']!, /^application\/json/);
      assert.equal((await get(server.httpsPort, '/assets/app-1234.js')).headers.sourcemap, 'app-1234.js.map');
      assert.equal((await get(server.httpsPort, '/assets/app-1234.css')).headers.sourcemap, undefined, 'no map, no header');
    } finally {
      await server.close();
    }
  });

  test('with a public address, a forged Host is redirected there', async () => {
    const port = await freeTcpPort();
    const server = await startSignal({ bus: new MemoryBus(), config: config({ httpPort: port, publicAddress: '203.0.113.7' }), log, webRoot });
    try {
      assert.equal((await get(port, '/R', 'GET', false, 'evil.example')).headers.location, `https://203.0.113.7:${server.httpsPort}/R`);
      assert.equal((await get(port, '/R', 'GET', false, '203.0.113.7:80')).headers.location, `https://203.0.113.7:${server.httpsPort}/R`);
      assert.equal((await get(port, '/R', 'GET', false, '127.0.0.1')).headers.location, `https://127.0.0.1:${server.httpsPort}/R`);
    } finally {
      await server.close();
    }
  });

  test("an admin's certificate names the server: its names (and one label under a wildcard) are kept, the first is canonical", async () => {
    const { cert } = await createSelfSigned({ dns: ['meet.example.org', '*.rooms.example.org'] });
    const names = hostNames({ publicAddress: '', listenAddress: '0.0.0.0' }, { pem: cert, selfSigned: false });
    assert.equal(names.canonical, 'meet.example.org');
    assert.ok(names.known('Meet.Example.Org'));
    assert.ok(names.known('a.rooms.example.org'));
    assert.ok(!names.known('rooms.example.org'));
    assert.ok(!names.known('a.b.rooms.example.org'));
    assert.ok(!names.known('evil.example'));
    assert.ok(names.known('[::1]'));
    // the self-signed certificate's names are known, but the canonical host is then a machine address
    const own = hostNames({ publicAddress: '', listenAddress: '0.0.0.0' }, { pem: cert, selfSigned: true });
    assert.notEqual(own.canonical, 'meet.example.org');
  });
});

describe('signal without a built web app or certificate files', () => {
  test('503 page when dist/web is missing', async () => {
    const server = await startSignal({ bus: new MemoryBus(), config: config({}), log, webRoot: path.join(tmp, 'nowhere') });
    try {
      const r = await get(server.httpsPort, '/');
      assert.equal(r.status, 503);
      assert.match(r.body, /not built/);
      assert.match(r.body, /\.\/tertulia start/);
      assert.equal((await get(server.httpsPort, '/healthz')).status, 200);
    } finally {
      await server.close();
    }
  });

  test('unreadable tlsCert is a clear error', async () => {
    await assert.rejects(
      startSignal({ bus: new MemoryBus(), config: config({ tlsCert: path.join(tmp, 'none.pem'), tlsKey: path.join(tmp, 'none.key') }), log, webRoot }),
      /cannot read the TLS certificate file .*none\.pem/,
    );
  });
});

describe('signal WebSocket', () => {
  let server: SignalServer;
  let bus: MemoryBus;
  let focus: FakeFocus;
  const clients: WsClient[] = [];
  const client = (opts?: { autoPong?: boolean }) => {
    const c = new WsClient(server.httpsPort, opts);
    clients.push(c);
    return c;
  };
  before(async () => {
    bus = new MemoryBus();
    focus = fakeFocus(bus);
    server = await startSignal({ bus, config: config({ participantTimeout: 1 }), log, webRoot });
  });
  after(async () => {
    for (const c of clients) c.ws.terminate();
    await server.close();
  });

  test('join, presence, offer, answer, mute, leave', async () => {
    const a = client();
    const joinedA = await a.join('Sala-Ñandú', 'Ana', { audioMuted: true });
    assert.equal(joinedA.room, 'Sala-Ñandú');
    assert.deepEqual(joinedA.participants, []);
    const aId = joinedA.selfId;
    assert.match(aId, /^[0-9a-f]{8}$/);
    const joinA = await focus.waitFor(subjects.focusJoin, (p) => p.participantId === aId);
    assert.deepEqual(joinA, { conferenceId: 'sala-ñandú', participantId: aId });
    // the initial mute state reaches focus too
    assert.deepEqual(await focus.waitFor(subjects.focusMute, (p) => p.participantId === aId), {
      conferenceId: 'sala-ñandú',
      participantId: aId,
      kind: 'audio',
      muted: true,
    });

    const b = client();
    const joinedB = await b.join('SALA-ÑANDÚ', 'Bea');
    assert.equal(joinedB.room, 'Sala-Ñandú', 'the room keeps the name as first typed');
    assert.deepEqual(joinedB.participants, [{ id: aId, displayName: 'Ana', audioMuted: true, videoMuted: false, role: 'moderator' }]);
    const bId = joinedB.selfId;
    const pj = await a.nextOfType('participant-joined');
    assert.deepEqual(pj.participant, { id: bId, displayName: 'Bea', audioMuted: false, videoMuted: false, role: 'participant' });

    // focus -> signal offer reaches B's socket only
    const sources = [{ mid: '2', participantId: aId, kind: 'audio' }];
    bus.publish(subjects.signalOffer, { conferenceId: 'sala-ñandú', participantId: bId, sdp: 'v=0 fake', version: 3, sources });
    assert.deepEqual(await b.nextOfType('offer'), { type: 'offer', sdp: 'v=0 fake', version: 3, sources });
    // malformed offers are dropped
    bus.publish(subjects.signalOffer, { conferenceId: 'sala-ñandú', participantId: bId, version: 'x' });

    b.send({ type: 'answer', sdp: 'v=0 answer', version: 3 });
    assert.deepEqual(await focus.waitFor(subjects.focusAnswer, (p) => p.participantId === bId), {
      conferenceId: 'sala-ñandú',
      participantId: bId,
      sdp: 'v=0 answer',
      version: 3,
    });
    b.send({ type: 'answer', sdp: 'bad', version: 4 });
    const refused = await b.nextOfType('error');
    assert.equal(refused.code, 'bad-message');
    assert.match(refused.message, /no ICE credentials/);

    b.send({ type: 'mute', kind: 'video', muted: true });
    const upA = await a.nextOfType('participant-updated');
    assert.deepEqual(upA.participant, { id: bId, displayName: 'Bea', audioMuted: false, videoMuted: true, role: 'participant' });
    const upB = await b.nextOfType('participant-updated');
    assert.equal(upB.participant.id, bId);
    assert.deepEqual(await focus.waitFor(subjects.focusMute, (p) => p.participantId === bId), {
      conferenceId: 'sala-ñandú',
      participantId: bId,
      kind: 'video',
      muted: true,
    });

    b.send({ type: 'leave' });
    assert.deepEqual(await a.nextOfType('participant-left'), { type: 'participant-left', id: bId });
    await focus.waitFor(subjects.focusLeave, (p) => p.participantId === bId);
    // after leaving, the same socket may join again (as a new participant)
    const again = await b.join('sala-ñandú', 'Bea');
    assert.notEqual(again.selfId, bId);
    await a.nextOfType('participant-joined');

    // closing the socket is a leave
    a.close();
    assert.deepEqual(await b.nextOfType('participant-left'), { type: 'participant-left', id: aId });
    await focus.waitFor(subjects.focusLeave, (p) => p.participantId === aId);
    b.close();
  });

  test('different rooms do not see each other', async () => {
    const a = client();
    const b = client();
    await a.join('uno', 'A');
    const jb = await b.join('dos', 'B');
    assert.deepEqual(jb.participants, []);
    await assert.rejects(a.nextOfType('participant-joined', 300));
  });

  test('bad messages get error replies and change nothing', async () => {
    const c = client();
    await c.open();
    c.send('not json {');
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send({ type: 'join', room: 'ok', displayName: 'X', audioMuted: 'no', videoMuted: false });
    const wrongType = await c.nextOfType('error');
    assert.equal(wrongType.code, 'bad-message');
    assert.match(wrongType.message, /audioMuted/);
    c.send({ type: 'join', room: '../etc', displayName: 'X', audioMuted: false, videoMuted: false });
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send({ type: 'join', room: 'ok', displayName: '   ', audioMuted: false, videoMuted: false });
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send({ type: 'hello' });
    assert.match((await c.nextOfType('error')).message, /unknown message type "hello"/);
    c.send('null');
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send('[1,2]');
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send('['.repeat(5000) + ']'.repeat(5000));
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.send('{"__proto__":{"polluted":true},"type":"leave"}');
    assert.equal((await c.nextOfType('error')).code, 'not-joined');
    assert.equal(({} as any).polluted, undefined);
    c.send(Buffer.from([0xc3, 0x28]).toString('latin1')); // text that is not JSON
    assert.equal((await c.nextOfType('error')).code, 'bad-message');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match((await c.nextOfType('error')).message, /binary/);
    c.send({ type: 'answer', sdp: 'x', version: 1 });
    assert.equal((await c.nextOfType('error')).code, 'not-joined');
    c.send({ type: 'mute', kind: 'audio', muted: true });
    assert.equal((await c.nextOfType('error')).code, 'not-joined');
    // still usable: join works, a second join does not
    await c.join('ok', 'X');
    c.send({ type: 'join', room: 'other', displayName: 'X', audioMuted: false, videoMuted: false });
    assert.equal((await c.nextOfType('error')).code, 'already-joined');
    c.close();
  });

  test('oversized closes with 1009, invalid UTF-8 with 1007, flooding with 1008; the server stays up', async () => {
    const big = client();
    await big.open();
    big.send(JSON.stringify({ type: 'answer', sdp: 'x'.repeat(MAX_WS_MESSAGE_BYTES + 10), version: 1 }));
    assert.equal((await big.closed).code, 1009);

    const badUtf8 = client();
    await badUtf8.open();
    badUtf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    assert.equal((await badUtf8.closed).code, 1007);

    const flood = client();
    await flood.join('flood', 'F');
    for (let i = 0; i < 120; i++) flood.send({ type: 'mute', kind: 'audio', muted: i % 2 === 0 });
    assert.equal((await flood.closed).code, 1008);

    const ok = client();
    const j = await ok.join('flood', 'G');
    assert.deepEqual(j.participants, [], 'the flooder was removed from the room');
    assert.equal((await get(server.httpsPort, '/healthz')).status, 200);
    ok.close();
  });

  test('a socket that stops answering pings is dropped', async () => {
    const watcher = client();
    await watcher.join('heartbeat', 'W');
    const silent = client({ autoPong: false });
    const j = await silent.join('heartbeat', 'S');
    await watcher.nextOfType('participant-joined');
    // participantTimeout is 1 s, pings every 0.5 s: first its connection is interrupted for the others, then it leaves
    const interrupted = await watcher.next((m) => m.type === 'participant-updated' && m.participant.id === j.selfId, 8000);
    assert.equal(interrupted.participant.interrupted, true);
    const left = await watcher.nextOfType('participant-left', 8000);
    assert.equal(left.id, j.selfId);
    await focus.waitFor(subjects.focusLeave, (p) => p.participantId === j.selfId);
  });

  test('a connection silent for a while is interrupted for the others, and no longer once it is heard again', async () => {
    const watcher = client();
    await watcher.join('heartbeat-back', 'W');
    const silent = client({ autoPong: false });
    const j = await silent.join('heartbeat-back', 'S');
    await watcher.nextOfType('participant-joined');
    const down = await watcher.next((m) => m.type === 'participant-updated' && m.participant.id === j.selfId, 8000);
    assert.equal(down.participant.interrupted, true);
    // it speaks again (a message counts as much as a pong)
    await silent.send({ type: 'chat', text: 'back' });
    const up = await watcher.next((m) => m.type === 'participant-updated' && m.participant.id === j.selfId, 8000);
    assert.equal(up.participant.interrupted, undefined);
    // a browser that answers every ping is never taken for interrupted
    assert.ok(await silent.nothingLike((m) => m.type === 'participant-updated' && m.participant.id !== j.selfId && m.participant.interrupted === true));
  });

  test("a stall of the server's own event loop is not its clients' silence", async () => {
    const a = client();
    const ja = await a.join('stall', 'A');
    const b = client();
    await b.join('stall', 'B');
    await a.nextOfType('participant-joined');
    // 3 s without running (participantTimeout is 1 s): no timer fires and no pong is read meanwhile
    const end = Date.now() + 3000;
    while (Date.now() < end) {
      // busy
    }
    // both answer the next pings and stay
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(await a.nothingLike((m) => m.type === 'participant-left'));
    assert.ok(await b.nothingLike((m) => m.type === 'participant-left'));
    await b.send({ type: 'chat', text: 'still here' });
    assert.equal((await a.nextOfType('chat')).message.text, 'still here');
    assert.equal(ja.type, 'joined');
    a.close();
    b.close();
  });

  test('a room holds at most 100 participants', async () => {
    const members: WsClient[] = [];
    for (let i = 0; i < 100; i++) members.push(client());
    await Promise.all(members.map((m, i) => m.join('big', `P${i}`)));
    const extra = client();
    await extra.open();
    extra.send({ type: 'join', room: 'BIG', displayName: 'late', audioMuted: false, videoMuted: false });
    assert.equal((await extra.nextOfType('error')).code, 'room-full');
    for (const m of members) m.ws.terminate();
    extra.close();
  });
});

describe('signal when focus is not there', () => {
  test('join still gives presence, and an error about media that joining again may cure (media-unavailable)', async () => {
    const server = await startSignal({ bus: new MemoryBus(), config: config({}), log, webRoot });
    const c = new WsClient(server.httpsPort);
    try {
      const j = await c.join('lonely', 'L');
      assert.equal(j.type, 'joined');
      const err = await c.nextOfType('error');
      assert.equal(err.code, 'media-unavailable');
      assert.match(err.message, /could not set up media for this meeting: .*nobody handles focus\.join/);
    } finally {
      c.ws.terminate();
      await server.close();
    }
  });
});
