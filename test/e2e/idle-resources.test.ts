// Resource use when idle: after a meeting of N ends, the server's rooms, participants, WebSockets, focus
// conferences and bridge endpoints are 0 again, its handles (timers, sockets... by type, media workers
// included) are the idle ones, and its file descriptors and heap (after a forced GC) are within a bound of idle.
// The participants are synthetic browsers (src/loadtest/meeting-client.ts): the real WebSocket, real ICE,
// DTLS and SRTP with audio and simulcast video. No timing is asserted: the counts are read until they settle.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MeetingClient } from '../../src/loadtest/meeting-client.ts';
import { loadMedia } from '../../src/loadtest/media.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { differencesFromIdle, MiB, readResources, settleToIdle, summary, type Counts, type LeakBounds } from '../helpers/resource-counts.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/browser.ts';

const N = 5;
const BOUNDS: LeakBounds = { fds: 4, heapBytes: 32 * MiB, rssBytes: 512 * MiB };

let server: RunningServer;
let resourcesPort: number;
let idle: Counts;

before(async () => {
  resourcesPort = await freeTcpPort();
  server = await startServer({ TERTULIA_RESOURCES_PORT: String(resourcesPort) });
  // the idle level: read until two reads agree (the bridge's first announcement, focus's discovery settle first)
  idle = await readResources(resourcesPort);
  const again = await settleToIdle(resourcesPort, idle, { fds: 0, heapBytes: 64 * MiB, rssBytes: 1024 * MiB }, 10);
  idle = again.counts;
});

after(async () => {
  await server?.stop();
});

async function meetingOfN(room: string): Promise<MeetingClient[]> {
  const media = loadMedia();
  const clients = Array.from({ length: N }, (_, i) => new MeetingClient({ host: '127.0.0.1', httpsPort: server.httpsPort, room, name: `p${i}`, index: i, media, videoFps: 10 }));
  for (const c of clients) await c.join();
  // everyone gets media from the others: the meeting really ran
  for (const c of clients) await waitUntil(`${c.opts.name} receives media`, async () => c.received, (n) => n > 0);
  return clients;
}

test(`after a meeting of ${N} ends, the server's counts return to idle`, { timeout: 180_000 }, async (t) => {
  assert.equal(idle['signal.rooms'], 0);
  assert.equal(idle['bridge.endpoints'], 0);

  const clients = await meetingOfN('IdleCheck');
  const during = await readResources(resourcesPort, false);
  assert.equal(during['signal.participants'], N, summary(during));
  assert.equal(during['signal.sockets'], N, summary(during));
  assert.equal(during['focus.participants'], N, summary(during));
  assert.equal(during['bridge.endpoints'], N, summary(during));
  assert.ok(differencesFromIdle(idle, during, BOUNDS).length > 0, 'a running meeting differs from idle');

  // all but one leave with a goodbye; one just drops its connection
  await Promise.all(clients.map((c, i) => c.leave(i === 0)));
  const { counts, differences } = await settleToIdle(resourcesPort, idle, BOUNDS);
  t.diagnostic(`idle:   ${summary(idle)}`);
  t.diagnostic(`during: ${summary(during)}`);
  t.diagnostic(`after:  ${summary(counts)}`);
  assert.deepEqual(differences, [], `idle: ${summary(idle)}\nafter: ${summary(counts)}`);
  assert.equal(counts['signal.rooms'], 0);
  assert.equal(counts['signal.participants'], 0);
  assert.equal(counts['signal.sockets'], 0);
  assert.equal(counts['focus.conferences'], 0);
  assert.equal(counts['bridge.endpoints'], 0);
  assert.equal(counts['bridge.conferences'], 0);
  assert.ok(server.alive());
});

test('a second meeting in the same room ends at the same idle level (nothing accumulates per meeting)', { timeout: 180_000 }, async () => {
  const clients = await meetingOfN('IdleCheck');
  await Promise.all(clients.map((c) => c.leave()));
  const { counts, differences } = await settleToIdle(resourcesPort, idle, BOUNDS);
  assert.deepEqual(differences, [], `idle: ${summary(idle)}\nafter: ${summary(counts)}`);
});
