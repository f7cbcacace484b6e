// A server started the way an admin starts it (scripts/launch.mjs, as ./tertulia and the systemd unit do) runs
// the JavaScript build in dist/ when it is up to date, and its media workers (started on demand by the first
// join) and the load tester's driver processes run the build too: participants join through the real
// signalling, ICE, DTLS and SRTP and receive each other's media.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildServerDist, serverDistFresh } from '../../scripts/server-dist.mjs';
import type { LoadtestReport } from '../../src/loadtest/report.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function launch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', path.join(repo, 'scripts/launch.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the server from its JavaScript build', () => {
  let server: RunningServer;

  before(async () => {
    // scripts/test builds it (scripts/bootstrap.sh); a single file run after an edit builds it here
    if (!serverDistFresh()) buildServerDist();
    server = await startServer({ TERTULIA_LOG_LEVEL: 'info', TERTULIA_MEDIA_WORKERS_ON_DEMAND: 'true' });
  });

  after(async () => {
    await server?.stop();
  });

  test('runs dist/, and two participants get each other\'s media through workers started by the first join', async () => {
    assert.match(server.output(), /"code":"dist \(JavaScript build\)"/);
    assert.doesNotMatch(server.output(), /media workers started/, 'no worker before the first join');
    const r = await launch(['loadtest', '--url', server.baseUrl, '--rooms', '1', '--participants', '2', '--publishers', '2', '--duration', '3', '--room-prefix', 'built', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as LoadtestReport;
    assert.equal(report.joins.joined, 2, JSON.stringify(report.joinErrors));
    assert.equal(report.tracks.received, report.tracks.expected);
    assert.ok(report.tracks.expected > 0);
    assert.match(server.output(), /media workers started/);
    assert.doesNotMatch(server.output(), /media worker (failed|exited)/);
  });
});
