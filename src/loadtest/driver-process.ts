// One driver process: a child (forked through driver-handle.ts) running a share of the synthetic participants.
// For `tertulia loadtest` (run.ts) they are meeting clients (meeting-client.ts: the real WebSocket, ICE, DTLS,
// SRTP, simulcast VP8 and Opus) and its parent tells it when to join, when to count and when to report; for the
// benchmark (bench/driver-pool.ts) they are direct participants of the bridge under test (direct-role.ts).
// Both over the IPC channel, with plan.ts's messages.
import { performance } from 'node:perf_hooks';
import { DelayHistogram } from './delay-histogram.ts';
import { loadMedia } from './media.ts';
import { MeetingClient } from './meeting-client.ts';
import { DirectRole } from './direct-role.ts';
import { measureWindow } from './participant.ts';
import type { ClientResult, FromDriver, PlannedClient, ToDriver } from './plan.ts';

const JOIN_TIMEOUT_MS = 30_000;

const send = (m: FromDriver) => process.send?.(m);

interface Running {
  plan: PlannedClient;
  client: MeetingClient;
  joined: boolean;
  joinMs?: number;
  error?: string;
  dropped: boolean;
}

const delays = new DelayHistogram();
const running: Running[] = [];
let cpuAtStart = process.cpuUsage();
let windowStart = performance.now();

async function start(m: Extract<ToDriver, { type: 'start' }>): Promise<void> {
  const media = loadMedia();
  await Promise.all(
    m.clients.map(async (plan) => {
      await new Promise((r) => setTimeout(r, plan.joinAfterMs));
      const client = new MeetingClient({
        host: m.host,
        httpsPort: m.httpsPort,
        room: plan.room,
        name: plan.name,
        index: plan.index,
        media,
        localAddress: '0.0.0.0',
        videoFps: m.videoFps,
        sendMedia: plan.publisher,
        delays,
      });
      const r: Running = { plan, client, joined: false, dropped: false };
      running.push(r);
      const begun = performance.now();
      try {
        await client.join(JOIN_TIMEOUT_MS);
        r.joined = true;
        r.joinMs = Math.round(performance.now() - begun);
        send({ type: 'joined', name: plan.name, ms: r.joinMs });
        void client.closed.then(() => (r.dropped = !stopping));
      } catch (e) {
        r.error = (client.error ?? (e as Error).message).slice(0, 300);
        send({ type: 'join-failed', name: plan.name, error: r.error });
        await client.leave(true).catch(() => {});
      }
    }),
  );
  send({ type: 'ready' });
}

function measure(m: Extract<ToDriver, { type: 'measure' }>): void {
  measureWindow.startUs = m.startUs;
  measureWindow.lengthUs = m.lengthUs;
  for (const r of running) r.client.participant.resetCounters();
  delays.reset();
  cpuAtStart = process.cpuUsage();
  windowStart = performance.now();
}

function result(r: Running): ClientResult {
  const p = r.client.participant;
  let audioTracks = 0;
  let videoTracks = 0;
  let expectedPackets = 0;
  let lostPackets = 0;
  const videoLayers = [0, 0, 0, 0];
  for (const s of p.streams.values()) {
    if (s.packets === 0) continue;
    if (s.kind === 'audio') audioTracks++;
    else {
      videoTracks++;
      const most = s.layerPackets.indexOf(Math.max(...s.layerPackets));
      if (most >= 0) videoLayers[most]!++;
    }
    const expected = s.lastSeq - s.firstSeq + 1;
    expectedPackets += expected;
    lostPackets += Math.max(0, expected - s.packets);
  }
  return {
    name: r.plan.name,
    room: r.plan.room,
    publisher: r.plan.publisher,
    joined: r.joined,
    ...(r.joinMs !== undefined ? { joinMs: r.joinMs } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    audioTracks,
    videoTracks,
    packets: p.rx.rtp,
    bytes: p.rx.bytes,
    expectedPackets,
    lostPackets,
    sentBytes: p.sentBytes,
    videoLayers,
    dropped: r.dropped,
  };
}

function report(): void {
  const cpu = process.cpuUsage(cpuAtStart);
  send({
    type: 'report',
    clients: running.map(result),
    delays: delays.sparse(),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    windowMs: Math.round(performance.now() - windowStart),
  });
}

let stopping = false;
async function leave(): Promise<void> {
  stopping = true;
  await Promise.all(running.map((r) => r.client.leave().catch(() => {})));
  send({ type: 'left' });
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

const direct = new DirectRole(send);

process.on('message', (m: ToDriver) => {
  if (m?.type === 'direct') {
    direct.handle(m);
    if (m.op?.op === 'close') setTimeout(() => process.exit(0), 100).unref();
  } else if (m?.type === 'bridge-reply') direct.bridgeReply(m);
  else if (m?.type === 'start') void start(m);
  else if (m?.type === 'measure') measure(m);
  else if (m?.type === 'report') report();
  else if (m?.type === 'leave') void leave();
});
// the load tester went away (Ctrl-C, a crash): leave the meetings rather than linger in them
process.on('disconnect', () => {
  direct.close();
  if (!stopping) void leave().finally(() => process.exit(0));
});
