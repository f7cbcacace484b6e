// Metrics and health of the real server (`tertulia start` with metricsAddress and metricsToken): /metrics parsed
// strictly as Prometheus text, its counters moving while two synthetic participants (the bench's, real ICE, DTLS
// and SRTP) and one headless Chromium (whose receiver reports give loss, RTT and jitter) hold a meeting; refused credentials counted; /colibri/stats with Jitsi's field names; requests without the
// token refused. Then parts over a real NATS server: a web+focus process is not ready (503) until a bridge process
// announces itself, and each process serves its own parts' metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import WebSocket from 'ws';
import type { Browser } from 'playwright-core';
import { MeetingClient } from '../../src/loadtest/meeting-client.ts';
import { loadMedia } from '../../src/loadtest/media.ts';
import { joinThroughUi, launchBrowser, newParticipant, waitUntil } from '../helpers/browser.ts';
import { startNatsServer, type NatsServer } from '../helpers/nats.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { parsePrometheusText, type Scrape } from '../helpers/prometheus-text.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const TOKEN = 'metrics-t0ken-for-the-test';

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
      })
      .on('error', reject);
  });
}

const auth = { Authorization: `Bearer ${TOKEN}` };

async function scrape(port: number, headers: Record<string, string> = auth): Promise<Scrape> {
  const r = await get(port, '/metrics', headers);
  assert.equal(r.status, 200, r.body);
  assert.match(r.type, /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.body);
}

describe('metrics and health of one server', () => {
  let server: RunningServer;
  let metricsPort: number;
  const clients: MeetingClient[] = [];
  let browser: Browser | undefined;

  before(async () => {
    metricsPort = await freeTcpPort();
    server = await startServer({
      TERTULIA_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      TERTULIA_METRICS_TOKEN: TOKEN,
      // an admin account exists as a name only: signing in as it with any password is refused (login-failed)
      TERTULIA_ADMIN_ACCOUNTS: 'head',
    });
  });

  after(async () => {
    await Promise.all(clients.map((c) => c.leave().catch(() => {})));
    await browser?.close();
    await server?.stop();
  });

  test('without the token: refused, and the token never shows in the log', async () => {
    for (const path of ['/metrics', '/readyz', '/healthz', '/colibri/stats', '/about/health']) {
      assert.equal((await get(metricsPort, path)).status, 401, path);
      assert.equal((await get(metricsPort, path, { Authorization: 'Bearer wrong-token' })).status, 401, path);
    }
    assert.equal((await get(metricsPort, '/metrics', { Authorization: TOKEN })).status, 401, 'not a Bearer header');
    assert.equal((await get(metricsPort, '/nothing-here', auth)).status, 404);
    assert.ok(!server.output().includes(TOKEN));
  });

  test('health: alive and ready (the bridge in this process announced itself)', async () => {
    assert.equal((await get(metricsPort, '/healthz', auth)).status, 200);
    const ready = await waitUntil('ready', () => get(metricsPort, '/readyz', auth), (r) => r.status === 200, 30_000);
    assert.deepEqual(JSON.parse(ready.body), { ready: true, problems: [] });
    const about = JSON.parse((await get(metricsPort, '/about/health', auth)).body);
    assert.equal(about.ready, true);
    assert.equal(about.busConnected, true);
    assert.equal(about.bridges, 1);
  });

  test('a meeting moves the counters; refused credentials are counted', async (t) => {
    const idle = await scrape(metricsPort);
    for (const [name, type] of [
      ['tertulia_signal_rooms', 'gauge'],
      ['tertulia_signal_join_seconds', 'histogram'],
      ['tertulia_bridge_rtp_forwarded_total', 'counter'],
      ['tertulia_bridge_receivers_by_rtt_milliseconds', 'gauge'],
      ['tertulia_recorder_recordings_active', 'gauge'],
      ['tertulia_recorder_live_streams_active', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
    ]) {
      assert.equal(idle.types.get(name), type, name);
    }
    assert.equal(idle.value('tertulia_signal_rooms'), 0);
    assert.equal(idle.value('tertulia_signal_join_seconds_count'), 0);
    const bridgeLabel = idle.series('tertulia_bridge_endpoints')[0]!.labels;
    assert.equal(idle.value('tertulia_bridge_endpoints', bridgeLabel), 0);
    const forwardedBefore = idle.value('tertulia_bridge_rtp_forwarded_total', bridgeLabel)!;

    const media = loadMedia();
    for (let i = 0; i < 2; i++) {
      const c = new MeetingClient({ host: '127.0.0.1', httpsPort: server.httpsPort, room: 'Metricas', name: `p${i}`, index: i, media, videoFps: 10 });
      clients.push(c);
      await c.join();
    }
    for (const c of clients) await waitUntil(`${c.opts.name} receives media`, async () => c.received, (n) => n > 0, 60_000);
    browser = await launchBrowser();
    const ana = await newParticipant(browser, 'Ana');
    await joinThroughUi(ana, server.baseUrl, 'Metricas');

    // a wrong password for an account: login-failed
    const ws = new WebSocket(`wss://127.0.0.1:${server.httpsPort}/ws`, { rejectUnauthorized: false });
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const refusal = new Promise<string>((r) => ws.on('message', (d) => r(d.toString())));
    ws.send(JSON.stringify({ type: 'login', username: 'head', password: 'not-the-password' }));
    assert.match(await refusal, /login-failed/);
    ws.close();

    const during = await waitUntil(
      'forwarded packets and receiver reports in /metrics',
      () => scrape(metricsPort),
      (s) => (s.value('tertulia_bridge_rtp_forwarded_total', bridgeLabel) ?? 0) > forwardedBefore + 100 && (s.value('tertulia_bridge_receivers_by_loss_ratio', { ...bridgeLabel, le: '+Inf' }) ?? 0) > 0,
      60_000,
    );
    assert.equal(during.value('tertulia_signal_rooms'), 1);
    assert.equal(during.value('tertulia_signal_participants'), 3);
    assert.ok(during.value('tertulia_signal_websockets')! >= 3);
    assert.equal(during.value('tertulia_signal_join_seconds_count'), 3);
    assert.equal(during.value('tertulia_signal_join_seconds_bucket', { le: '+Inf' }), 3);
    assert.equal(during.value('tertulia_signal_auth_failures_total', { reason: 'login-failed' }), 1);
    assert.equal(during.value('tertulia_focus_conferences'), 1);
    assert.equal(during.value('tertulia_focus_participants'), 3);
    assert.equal(during.value('tertulia_focus_bridge_endpoints', bridgeLabel), 3);
    assert.equal(during.value('tertulia_bridge_conferences', bridgeLabel), 1);
    assert.equal(during.value('tertulia_bridge_endpoints', bridgeLabel), 3);
    assert.ok(during.value('tertulia_bridge_rtp_received_total', bridgeLabel)! > 0);
    assert.ok(during.value('tertulia_bridge_bytes_sent_total', bridgeLabel)! > 0);
    // CPU per forwarded packet: present once packets were forwarded between two scrapes, and positive
    const cpu = await waitUntil('CPU µs per forwarded packet', () => scrape(metricsPort), (s) => s.value('tertulia_bridge_cpu_microseconds_per_forwarded_packet', bridgeLabel) !== undefined, 30_000);
    assert.ok(cpu.value('tertulia_bridge_cpu_microseconds_per_forwarded_packet', bridgeLabel)! > 0);
    // the receivers' reports: cumulative buckets, never more than +Inf
    const all = during.value('tertulia_bridge_receivers_by_loss_ratio', { ...bridgeLabel, le: '+Inf' })!;
    for (const s of during.series('tertulia_bridge_receivers_by_loss_ratio')) assert.ok(s.value <= all, JSON.stringify(s));
    const jitter = during.value('tertulia_bridge_receivers_jitter_milliseconds_average', bridgeLabel)!;
    assert.ok(Number.isFinite(jitter) && jitter >= 0, `jitter ${jitter}`);
    t.diagnostic(
      `receivers reporting: ${all}; averages: loss ${during.value('tertulia_bridge_receivers_loss_ratio_average', bridgeLabel)}, ` +
        `RTT ${during.value('tertulia_bridge_receivers_rtt_milliseconds_average', bridgeLabel)} ms, jitter ${jitter} ms`,
    );

    // Jitsi-style stats: the same meeting, rates over the last sampling period
    const stats = await waitUntil(
      '/colibri/stats with traffic',
      async () => JSON.parse((await get(metricsPort, '/colibri/stats', auth)).body),
      (d) => d.bit_rate_download > 0 && d.packet_rate_upload > 0,
      30_000,
    );
    assert.equal(stats.conferences, 1);
    assert.equal(stats.participants, 3);
    assert.equal(stats.largest_conference, 3);
    assert.equal(stats.graceful_shutdown, false);
    assert.ok(stats.stress_level > 0 && stats.stress_level <= 1);
    for (const field of ['bit_rate_upload', 'packet_rate_download', 'rtt_aggregate', 'jitter_aggregate']) assert.equal(typeof stats[field], 'number', field);

    // every metric the Grafana dashboard plots is one this server serves
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const plotted = new Set(dashboard.match(/\b(tertulia|process)_[a-z_]+/g));
    assert.ok(plotted.size > 10);
    for (const name of plotted) assert.ok(during.types.has(name.replace(/_bucket$/, '')), `${name} of the dashboard is served`);

    await Promise.all(clients.splice(0).map((c) => c.leave()));
    await browser.close();
    browser = undefined;
    const afterwards = await waitUntil('the meeting gone from /metrics', () => scrape(metricsPort), (s) => s.value('tertulia_signal_rooms') === 0 && s.value('tertulia_bridge_endpoints', bridgeLabel) === 0, 30_000);
    assert.equal(afterwards.value('tertulia_signal_join_seconds_count'), 3, 'a histogram only grows');
  });
});

describe('metrics and readiness of parts over NATS', () => {
  let nats: NatsServer;
  let web: RunningServer | undefined;
  let bridge: RunningServer | undefined;

  before(async () => {
    nats = await startNatsServer();
  });

  after(async () => {
    await web?.stop();
    await bridge?.stop();
    await nats?.stop();
  });

  test('web+focus is not ready until a bridge announces itself; each process serves its own parts', async () => {
    const webMetrics = await freeTcpPort();
    const bridgeMetrics = await freeTcpPort();
    // no token: a loopback listener answers loopback Host names only
    web = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'web,focus', TERTULIA_METRICS_ADDRESS: `127.0.0.1:${webMetrics}` });
    const notReady = await get(webMetrics, '/readyz', { Host: `127.0.0.1:${webMetrics}` });
    assert.equal(notReady.status, 503);
    assert.match(JSON.parse(notReady.body).problems.join(' '), /no bridge/);
    assert.equal((await get(webMetrics, '/healthz', { Host: `127.0.0.1:${webMetrics}` })).status, 200, 'alive all the same');
    assert.equal((await get(webMetrics, '/metrics', { Host: 'attacker.example' })).status, 403, 'not a loopback Host');

    bridge = await startServer({ TERTULIA_NATS_URL: nats.url, TERTULIA_PARTS: 'bridge', TERTULIA_METRICS_ADDRESS: `127.0.0.1:${bridgeMetrics}` });
    await waitUntil('web+focus ready', () => get(webMetrics, '/readyz', { Host: 'localhost' }), (r) => r.status === 200, 30_000);
    const bridgeReady = await get(bridgeMetrics, '/readyz', { Host: 'localhost' });
    assert.equal(bridgeReady.status, 200, bridgeReady.body);

    const webScrape = await scrape(webMetrics, { Host: 'localhost' });
    const bridgeScrape = await scrape(bridgeMetrics, { Host: 'localhost' });
    assert.equal(webScrape.value('tertulia_focus_bridges'), 1);
    assert.equal(webScrape.series('tertulia_focus_bridge_endpoints').length, 1, 'the bridge of the other process, as focus sees it');
    assert.notEqual(webScrape.value('tertulia_signal_rooms'), undefined);
    assert.equal(webScrape.series('tertulia_bridge_endpoints').length, 0, 'no bridge metrics where no bridge runs');
    assert.equal(bridgeScrape.series('tertulia_bridge_endpoints').length, 1);
    assert.equal(bridgeScrape.value('tertulia_signal_rooms'), undefined, 'no signal metrics where no signal runs');
    const stats = JSON.parse((await get(bridgeMetrics, '/colibri/stats', { Host: 'localhost' })).body);
    assert.equal(stats.conferences, 0);
    assert.equal(typeof stats.relay_id, 'string');
  });
});
