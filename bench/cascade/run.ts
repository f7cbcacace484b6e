// `npm run bench -- cascade`: what forwarding across a bridge-to-bridge relay costs, against one bridge.
// The same meeting twice, with the same synthetic participants (real ICE, DTLS, SRTP; VP8 rid simulcast in
// three layers and Opus; receivers send transport-cc feedback and show every camera at --tile):
//  - one bridge: the publishers and the receivers on one bridge process;
//  - relayed: the publishers on bridge A, the receivers on bridge B (each its own process), joined by a relay
//    set up as focus does it (allocate-relay on both, B's relay endpoint told the publishers' sources with
//    their relay SSRCs, A's relay endpoint subscribed to them). Each camera crosses once, only the layers B's
//    receivers want.
// Reported: each bridge process's CPU (user + system) per RTP packet it sent, and for the relayed meeting
// the CPU of both bridges per packet delivered to a receiver, next to one bridge's. Options: USAGE.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BridgeProcess, type BridgeStats } from '../bridge-control.ts';
import { benchOptions } from '../cli-options.ts';
import { Participant, createClientCertificate, measureWindow, nowUs32, type ClientCertificate } from '../../src/loadtest/participant.ts';
import { AUDIO_FRAME_MS, VIDEO_FPS, loadMedia, type BenchMedia } from '../../src/loadtest/media.ts';
import { DelayHistogram } from '../../src/loadtest/delay-histogram.ts';
import { fmt, median, table } from '../stats.ts';

const USAGE = `usage: npm run bench -- cascade [options]
  --publishers N        participants sending video and audio (default 3)
  --receivers N         participants receiving everything (default 20)
  --seconds N           measured seconds per run (default 10), after the layers settled
  --repeat N            runs of each meeting, alternated (default 3); the table gives medians
  --tile WxH            the tile every receiver shows each camera in (default 1280x720: the top layer)
  --bridge-config JSON  extra configuration of every bridge (default '{"mediaWorkers":1}': one thread each)
  --short               harness check: 1 publisher, 3 receivers, 3 s; exits 1 when a receiver got nothing
  --write-doc           also rewrite the cascade figures block of docs/BENCHMARKS.md`;

const o = benchOptions(USAGE, {
  help: { type: 'boolean', default: false },
  short: { type: 'boolean', default: false },
  publishers: { type: 'string', default: '3' },
  receivers: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '10' },
  repeat: { type: 'string', default: '3' },
  tile: { type: 'string', default: '1280x720' },
  'bridge-config': { type: 'string', default: '{"mediaWorkers":1}' },
  'write-doc': { type: 'boolean', default: false },
});
const PUBLISHERS = o.short ? 1 : Number(o.publishers);
const RECEIVERS = o.short ? 3 : Number(o.receivers);
const SECONDS = o.short ? 3 : Number(o.seconds);
const [TILE_W, TILE_H] = o.tile.split('x').map(Number) as [number, number];
const BRIDGE_CONFIG = JSON.parse(o['bridge-config']) as Record<string, unknown>;
const CONFERENCE = 'cascade';
const SETTLE_MAX_MS = 25_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends every publisher's frames in real time (a 4 ms tick, as bench/scenario-run.ts does). */
function startLoad(publishers: Participant[], media: BenchMedia): () => void {
  const t0 = performance.now();
  const video = publishers.map(() => 0);
  const audio = publishers.map(() => 0);
  const timer = setInterval(() => {
    const elapsed = performance.now() - t0;
    publishers.forEach((p, i) => {
      const dueV = Math.floor((elapsed * VIDEO_FPS) / 1000) + 1;
      if (dueV - video[i]! > 3) video[i] = dueV - 1;
      while (video[i]! < dueV) {
        video[i]!++;
        p.sendVideoFrame();
      }
      const dueA = Math.floor(elapsed / AUDIO_FRAME_MS) + 1;
      if (dueA - audio[i]! > 3) audio[i] = dueA - 1;
      while (audio[i]! < dueA) p.sendAudioFrame(media.audio[audio[i]!++ % media.audio.length]!);
    });
  }, 4);
  return () => clearInterval(timer);
}

interface Run {
  /** Per bridge: CPU µs in the window and RTP packets it sent. */
  bridges: { name: string; cpuUs: number; rtpOut: number; rtpIn: number }[];
  /** RTP packets the receivers got in the window, and whether each receiver got every camera on the wanted layer. */
  delivered: number;
  settled: boolean;
  settleSeconds: number;
  /** Loss over the receivers' video streams (sequence gaps). */
  videoLoss: number;
  /** The receivers' video packets in the window by simulcast layer, lowest first. */
  layerPackets: number[];
}

const cpuOf = (s: BridgeStats) => s.cpuUserUs + s.cpuSystemUs;

async function runMeeting(relayed: boolean, media: BenchMedia, cert: ClientCertificate): Promise<Run> {
  const a = await BridgeProcess.start(BRIDGE_CONFIG);
  const b = relayed ? await BridgeProcess.start(BRIDGE_CONFIG) : a;
  const delays = new DelayHistogram();
  const people: Participant[] = [];
  try {
    const make = (i: number, publishes: boolean) =>
      new Participant({ conferenceId: CONFERENCE, endpointId: `p${i}`, index: i, publishesAudio: publishes, publishesVideo: publishes, media, delays });
    const publishers = Array.from({ length: PUBLISHERS }, (_, i) => make(i, true));
    const receivers = Array.from({ length: RECEIVERS }, (_, i) => make(PUBLISHERS + i, false));
    publishers.forEach((p, i) => (p.relaySsrcs = [0x70000000 + i * 8, 0x70000001 + i * 8, 0x70000002 + i * 8]));
    people.push(...publishers, ...receivers);
    for (const p of publishers) await p.connect(a, cert);
    for (const r of receivers) await r.connect(b, cert);
    const sources = publishers.flatMap((p) => p.sources);
    const ssrcs = sources.map((s) => s.ssrc);
    if (relayed) {
      // as focus's relays.ts does it: both ends, A learns where B sends from
      const keys = { fromA: randomBytes(30).toString('base64'), fromB: randomBytes(30).toString('base64') };
      const onA = (await a.request('allocate-relay', { conferenceId: CONFERENCE, endpointId: 'relay~b', sendKey: keys.fromA, receiveKey: keys.fromB })) as { address: string; port: number };
      await b.request('allocate-relay', { conferenceId: CONFERENCE, endpointId: 'relay~a', sendKey: keys.fromB, receiveKey: keys.fromA, peer: { address: onA.address, port: onA.port } });
      await b.request('set-sources', { conferenceId: CONFERENCE, endpointId: 'relay~a', sources: publishers.flatMap((p) => p.sources.map((s) => ({ ...s, participantId: p.endpointId }))) });
      await a.request('subscribe', { conferenceId: CONFERENCE, endpointId: 'relay~b', ssrcs });
    }
    for (const r of receivers) {
      await b.request('subscribe', { conferenceId: CONFERENCE, endpointId: r.endpointId, ssrcs });
      await b.request('constraints', { conferenceId: CONFERENCE, endpointId: r.endpointId, constraints: publishers.map((p) => ({ ssrc: p.videoSsrc, width: TILE_W, height: TILE_H })) });
    }
    const feedback = setInterval(() => {
      for (const r of receivers) r.sendTransportFeedback();
    }, 50);
    const stop = startLoad(publishers, media);
    try {
      // until every receiver gets every camera on the layer its tile needs
      const wanted = media.layers.findIndex((l) => l.width >= 0.9 * TILE_W && l.height >= 0.9 * TILE_H);
      const layer = wanted >= 0 ? wanted : media.layers.length - 1;
      const t0 = performance.now();
      let settled = false;
      while (!settled && performance.now() - t0 < SETTLE_MAX_MS) {
        for (const p of people) p.resetCounters();
        measureWindow.startUs = nowUs32();
        measureWindow.lengthUs = 3_600_000_000;
        await sleep(1000);
        settled = receivers.every((r) => publishers.every((p) => r.streams.get(p.videoSsrc)?.layer === layer));
      }
      const settleSeconds = (performance.now() - t0) / 1000;
      for (const p of people) p.resetCounters();
      measureWindow.startUs = nowUs32();
      measureWindow.lengthUs = SECONDS * 1_000_000;
      const bridges = relayed ? [a, b] : [a];
      const before = await Promise.all(bridges.map((x) => x.stats()));
      await sleep(SECONDS * 1000);
      const after = await Promise.all(bridges.map((x) => x.stats()));
      let expected = 0;
      let got = 0;
      const layerPackets = media.layers.map(() => 0);
      for (const r of receivers) {
        for (const st of r.streams.values()) {
          if (st.kind !== 'video') continue;
          expected += st.lastSeq - st.firstSeq + 1;
          got += st.packets;
          st.layerPackets.forEach((n, i) => (layerPackets[i] = (layerPackets[i] ?? 0) + n));
        }
      }
      return {
        bridges: bridges.map((_, i) => ({
          name: relayed ? (i === 0 ? 'A (publishers)' : 'B (receivers)') : 'one bridge',
          cpuUs: cpuOf(after[i]!) - cpuOf(before[i]!),
          rtpOut: (after[i]!.counters.rtpOut ?? 0) - (before[i]!.counters.rtpOut ?? 0),
          rtpIn: (after[i]!.counters.rtpIn ?? 0) - (before[i]!.counters.rtpIn ?? 0),
        })),
        delivered: receivers.reduce((n, r) => n + r.rx.rtp, 0),
        settled,
        settleSeconds,
        videoLoss: expected > 0 ? 1 - got / expected : 0,
        layerPackets,
      };
    } finally {
      stop();
      clearInterval(feedback);
    }
  } finally {
    for (const p of people) p.close();
    await a.close();
    if (b !== a) await b.close();
  }
}

const media = loadMedia();
const cert = await createClientCertificate();
const REPEAT = o.short ? 1 : Number(o.repeat);
console.log(`cascade: ${PUBLISHERS} publishers, ${RECEIVERS} receivers, tiles ${TILE_W}x${TILE_H}, bridges ${JSON.stringify(BRIDGE_CONFIG)}, ${SECONDS} s, ${REPEAT} runs of each`);
// one bridge and relayed alternate, so that the machine's other load spoils both alike
const ones: Run[] = [];
const relays: Run[] = [];
for (let i = 0; i < REPEAT; i++) {
  ones.push(await runMeeting(false, media, cert));
  relays.push(await runMeeting(true, media, cert));
}
const perPacket = (cpuUs: number, packets: number) => (packets > 0 ? cpuUs / packets : NaN);
/** The median over the runs of f, formatted. */
const med = (runs: Run[], f: (r: Run) => number, digits: number) => fmt(median(runs.map(f)), digits);
const bridgeRow = (meeting: string, runs: Run[], i: number) => [
  meeting,
  runs[0]!.bridges[i]!.name,
  med(runs, (r) => r.bridges[i]!.rtpIn / SECONDS, 0),
  med(runs, (r) => r.bridges[i]!.rtpOut / SECONDS, 0),
  med(runs, (r) => perPacket(r.bridges[i]!.cpuUs, r.bridges[i]!.rtpOut), 2),
];
const totalRow = (meeting: string, runs: Run[]) => [
  meeting,
  'all its bridges, per packet a receiver got',
  '',
  med(runs, (r) => r.delivered / SECONDS, 0),
  med(runs, (r) => perPacket(r.bridges.reduce((n, x) => n + x.cpuUs, 0), r.delivered), 2),
];
/** The receivers' video packets by layer over all runs, as shares ("q 1 %, h 2 %, f 97 %"). */
const layerSplit = (runs: Run[]) => {
  const sums = media.layers.map((_, i) => runs.reduce((n, r) => n + (r.layerPackets[i] ?? 0), 0));
  const total = sums.reduce((a, b) => a + b, 0) || 1;
  return media.layers.map((l, i) => `${l.rid} ${((100 * sums[i]!) / total).toFixed(0)} %`).join(', ');
};
const rows = [bridgeRow('one bridge', ones, 0), totalRow('one bridge', ones), bridgeRow('relayed', relays, 0), bridgeRow('relayed', relays, 1), totalRow('relayed', relays)];
const out = table(['meeting', 'bridge', 'RTP in /s', 'RTP out /s', 'CPU µs per packet out'], rows);
const notes = [ones, relays].map(
  (runs, i) =>
    `${i === 0 ? 'one bridge' : 'relayed'}: layers settled in ${runs.filter((r) => r.settled).length} of ${runs.length} runs (at most ${Math.max(...runs.map((r) => r.settleSeconds)).toFixed(1)} s), receivers' video loss at most ${(Math.max(...runs.map((r) => r.videoLoss)) * 100).toFixed(2)} %, their video packets by layer ${layerSplit(runs)}`,
);
console.log(out);
for (const n of notes) console.log(n);

if (o['write-doc']) {
  const doc = path.join(import.meta.dirname, '..', '..', 'docs', 'BENCHMARKS.md');
  const begin = '<!-- bench:cascade:begin -->';
  const end = '<!-- bench:cascade:end -->';
  const text = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const machine = `${os.availableParallelism()} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.type()} ${os.release()}, Node ${process.version}`;
  const command = `npm run bench -- cascade ${process.argv.slice(2).filter((a) => a !== '--write-doc').join(' ')}`.trim();
  const block = `${begin}
Measured ${when} UTC with \`${command}\` on ${machine}: ${PUBLISHERS} publishers on bridge A, ${RECEIVERS} receivers (tiles ${TILE_W}x${TILE_H}) on bridge B (or all on one bridge), bridges \`${JSON.stringify(BRIDGE_CONFIG)}\`, ${SECONDS} s measured per run, medians of ${REPEAT} runs of each, alternated.

${out}

${notes.map((n) => `- ${n}`).join('\n')}
${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  writeFileSync(doc, i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`);
}
const one = ones[0]!;
const relay = relays[0]!;
if (o.short && (relay.delivered === 0 || one.delivered === 0)) {
  console.error('a receiver got nothing');
  process.exit(1);
}
