// `tertulia loadtest` against a real server (`tertulia start` as a child): synthetic participants in two load
// tester processes join two rooms through the real signalling, ICE, DTLS and SRTP, receive every track their
// rooms' publishers send, and leave (the server is empty again). The server's per-address room cap shows in
// the report as refused joins with the server's own message; bad options are refused before anything runs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadtestReport } from '../../src/loadtest/report.ts';
import { waitUntil } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function tertulia(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'scripts/launch.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

describe('tertulia loadtest', () => {
  let server: RunningServer;

  before(async () => {
    // the room cap an admin's server has (10 a minute by default), made small
    server = await startServer({ TERTULIA_MAX_ROOMS_PER_ADDRESS_PER_MINUTE: '4' });
  });

  after(async () => {
    await server?.stop();
  });

  test('two rooms of three over two processes: everyone joins and gets every track, then leaves', async () => {
    const r = await tertulia(['loadtest', '--url', server.baseUrl, '--rooms', '2', '--participants', '3', '--publishers', '2', '--duration', '4', '--processes', '2', '--room-prefix', 'lt', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as LoadtestReport;
    assert.equal(report.joins.attempted, 6);
    assert.equal(report.joins.joined, 6, JSON.stringify(report.joinErrors));
    // per room: two publishers get the other's audio and video, the listener both publishers'
    assert.equal(report.tracks.expected, 16);
    assert.equal(report.tracks.received, 16);
    assert.equal(report.videoLayers.reduce((a, b) => a + b, 0), 8, 'every received video stream counted by its layer');
    assert.ok(report.bitrateKbps.receivedPerClient! > 0 && report.bitrateKbps.sentPerPublisher! > 0, JSON.stringify(report.bitrateKbps));
    assert.equal(typeof report.lossPercent, 'number');
    assert.equal(typeof report.delayMs.p50, 'number');
    assert.equal(report.driverCpuPercent.length, 2);
    assert.equal(report.media, 'ffmpeg');
    assert.equal(report.ok, true);
    assert.match(r.stderr, /joined 6 of 6/);
    // they left: the server is empty again
    await waitUntil(
      'the server empty again',
      async () => {
        const s = await tertulia(['status', '--json', '--data-dir', server.dataDir]);
        return s.code === 0 ? (JSON.parse(s.stdout) as { participants: number }).participants : -1;
      },
      (n) => n === 0,
      20_000,
    );
  });

  test("the server's per-address room cap shows as refused joins, with its message; the exit code says so", async () => {
    // the first test made 2 of the 4 rooms a minute this address may make
    const r = await tertulia(['loadtest', '--url', server.baseUrl, '--rooms', '4', '--participants', '1', '--publishers', '0', '--duration', '1', '--join-rate', '50', '--room-prefix', 'cap']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /Joins: +2 of 4/);
    assert.match(r.stdout, /failed \(2\): address-limit: /);
    assert.match(r.stdout, /raise maxConnectionsPerAddress/);
    assert.match(r.stdout, /Result: NOT every participant/);
  });

  test('bad options are refused with the reason, before anything runs', async () => {
    for (const [args, reason] of [
      [[], /--url: required/],
      [['--url', 'http://example.org'], /--url: the URL must start with https/],
      [['--url', 'https://example.org', '--rooms', '0'], /--rooms: /],
      [['--url', 'https://example.org', '--participants', '2', '--publishers', '3'], /--publishers: cannot exceed --participants/],
      [['--url', 'https://example.org', '--bogus'], /Unknown option '--bogus'/],
    ] as Array<[string[], RegExp]>) {
      const r = await tertulia(['loadtest', ...args]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, reason, args.join(' '));
    }
    const help = await tertulia(['loadtest', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: tertulia loadtest --url/);
  });
});
