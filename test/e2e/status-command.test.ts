// `tertulia status` against a real server (every part in one process): its rooms and participants (two joined
// over the WebSocket, one of them the moderator), the bridge and the recorder, and the self-signed
// certificate's expiry; `--json` parses; with no server on the data directory it says so and fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverStatusSchema } from '../../src/protocol/control-messages.ts';
import { runNode } from '../helpers/node-child.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { WsClient } from '../helpers/signal-client.ts';
import { waitUntil } from '../helpers/browser.ts';

const main = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
const status = (dataDir: string, ...args: string[]) => runNode([main, 'status', '--data-dir', dataDir, ...args], { env: { ...process.env, TERTULIA_CONFIG: '' } });

describe('tertulia status', () => {
  let server: RunningServer;
  const clients: WsClient[] = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server?.stop();
  });

  test('rooms, participants, bridge, recorder and certificate of the server running here', async () => {
    const ana = new WsClient(server.httpsPort);
    const ben = new WsClient(server.httpsPort);
    clients.push(ana, ben);
    await ana.join('Physics', 'Ana');
    await ben.join('Physics', 'Ben');
    // the recorder announces itself every few seconds
    const report = await waitUntil(
      'the status with the recorder',
      async () => {
        const r = await status(server.dataDir, '--json');
        assert.equal(r.code, 0, r.output);
        return serverStatusSchema.parse(JSON.parse(r.output));
      },
      (s) => s.recorders.length === 1 && s.bridges.length === 1,
      30_000,
    );
    assert.equal(report.participants, 2);
    assert.deepEqual(report.rooms, [{ name: 'Physics', participants: 2, moderators: 1, locked: false, lobby: false, running: [] }]);
    assert.equal(report.bridges[0]!.endpoints >= 0, true);
    assert.ok(report.recorders[0]!.free > 0);
    assert.equal(report.certificate?.selfSigned, true);
    assert.ok(report.certificate!.daysLeft > 3000, `the self-signed certificate lasts ten years: ${report.certificate!.daysLeft} days`);

    const text = await status(server.dataDir);
    assert.equal(text.code, 0, text.output);
    assert.match(text.output, /^Rooms: 1, participants: 2$/m);
    assert.match(text.output, /^ {2}Physics: 2 \(1 moderator\)$/m);
    assert.match(text.output, /^Bridges: 1$/m);
    assert.match(text.output, /^Certificate: self-signed, .* expires \d{4}-\d\d-\d\d \(in \d+ days\)$/m);
  });

  test('no server on that data directory: a clear error', async () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'tertulia-status-'));
    try {
      const r = await status(empty);
      assert.equal(r.code, 1);
      assert.match(r.output, /no Tertulia server runs with it/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
