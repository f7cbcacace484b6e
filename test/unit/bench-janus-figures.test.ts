// The side-by-side benchmark's arithmetic (bench/janus/window-figures.ts) and Janus's generated configuration
// (bench/janus/janus-server.ts): the figures come from deltas inside the window only, a camera that is off counts
// neither as a received video nor as a sender, and the configuration loads what the benchmark needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeLayers, describeTo1280, sampleFrom, sampleUntil, windowFigures, type PageSamples } from '../../bench/janus/window-figures.ts';
import { janusConfigFiles, JANUS_ROOM, JANUS_ROOM_BITRATE } from '../../bench/janus/janus-server.ts';
import type { InboundVideo, OutboundVideo, PageStats } from '../../bench/janus/page-stats.ts';

function inbound(key: string, packets: number, width: number, extra: Partial<InboundVideo> = {}): InboundVideo {
  return {
    key,
    packetsReceived: packets,
    packetsLost: 0,
    frameWidth: width,
    framesDecoded: 0,
    jitterBufferDelay: 0,
    jitterBufferEmittedCount: 0,
    jitterBufferMinimumDelay: 0,
    freezeCount: 0,
    totalFreezesDuration: 0,
    nackCount: 0,
    ...extra,
  };
}

function outbound(rid: string, width: number, bytes: number): OutboundVideo {
  return { key: `0:${rid}`, rid, frameWidth: width, bytesSent: bytes, nackCount: 0, qualityLimitationReason: 'none' };
}

const at = (t: number, s: Partial<PageStats>): PageStats => ({ at: t, inbound: [], outbound: [], availableOutgoingBitrate: 0, audioJitterBuffer: { delay: 0, emitted: 0, minimum: 0 }, ...s });

test('a receiver: packets, jitter buffer, freezes and NACKs are window deltas; time to 1280 counts from its join', () => {
  const receiver: PageSamples = {
    name: 'Sub',
    since: 1000,
    samples: [
      at(2000, { inbound: [inbound('0:1', 10, 320, { framesDecoded: 1 })] }),
      at(3500, { audioJitterBuffer: { delay: 2, emitted: 100, minimum: 1 }, inbound: [inbound('0:1', 100, 1280, { framesDecoded: 10, jitterBufferDelay: 1, jitterBufferEmittedCount: 20, jitterBufferMinimumDelay: 0.5, nackCount: 2, freezeCount: 1, totalFreezesDuration: 0.5 })] }),
      at(5000, {
        drawnVideos: [{ width: 830, height: 467 }, { width: 541, height: 304 }],
        audioJitterBuffer: { delay: 5, emitted: 200, minimum: 2.5 },
        inbound: [
          inbound('0:1', 400, 1280, { framesDecoded: 70, jitterBufferDelay: 4, jitterBufferEmittedCount: 80, jitterBufferMinimumDelay: 1.7, nackCount: 5, freezeCount: 1, totalFreezesDuration: 0.5 }),
          inbound('0:2', 0, 0),
          inbound('0:3', 50, 0), // padding only: no frame
        ],
      }),
    ],
  };
  const f = windowFigures([receiver], { start: 3000, end: 5000 }, { start: 10, end: 10.03 });
  assert.equal(f.packets, 300);
  assert.equal(f.receivedVideos, 1, 'a video with no packet (a camera that is off) or no frame (padding) is not counted');
  assert.deepEqual(f.videos, [{ page: 'Sub', key: '0:1', packets: 300 }]);
  assert.ok(Math.abs(f.cpuUsPerPacket - 100) < 1e-6, `30 ms of CPU over 300 packets is 100 µs each, got ${f.cpuUsPerPacket}`);
  assert.ok(Math.abs(f.cpuShare - 0.015) < 1e-9);
  assert.equal(f.jitterBufferMs, 50); // 3 s over 60 frames
  assert.ok(Math.abs(f.jitterBufferMinimumMs - 20) < 1e-9); // 1.2 s over 60 frames
  assert.ok(Math.abs(f.audioJitterBufferMs - 30) < 1e-9); // the audio: 3 s over 100 samples
  assert.ok(Math.abs(f.audioJitterBufferMinimumMs - 15) < 1e-9); // its own jitter's share: 1.5 s over 100 samples
  assert.equal(f.nacks, 3);
  assert.equal(f.freezes, 0, 'the freeze before the window is not counted');
  assert.deepEqual(f.to1280, [2.5]);
  assert.equal(f.at1280Share, 1);
  assert.equal(f.senders.length, 0);
  assert.deepEqual(f.drawn, ['Sub: 830x467, 541x304'], "the videos the page drew at the window's end");
});

test('a sender: kbit/s per layer and the mean estimate in the window; a camera that is off is no sender', () => {
  const pub: PageSamples = {
    name: 'Pub',
    since: 0,
    samples: [
      at(1000, { outbound: [outbound('h', 1280, 0), outbound('l', 320, 0)], availableOutgoingBitrate: 1e6 }),
      at(3000, { outbound: [outbound('h', 1280, 250_000), outbound('l', 320, 25_000)], availableOutgoingBitrate: 3e6 }),
    ],
  };
  const off: PageSamples = { name: 'Off', since: 0, samples: [at(1000, { outbound: [outbound('h', 0, 0)] }), at(3000, { outbound: [outbound('h', 0, 0)] })] };
  const f = windowFigures([pub, off], { start: 1000, end: 3000 }, { start: 0, end: 0 });
  assert.equal(f.senders.length, 1);
  assert.deepEqual(f.senders[0].layersKbps, { 'h:1280': 1000, 'l:320': 100 });
  assert.equal(f.senders[0].estimateBps, 2e6);
  assert.deepEqual(f.drawn, ['Pub: none', 'Off: none'], 'a page that drew no video (or read before the readout existed)');
  assert.equal(describeLayers(f.senders[0].layersKbps), 'h 1280: 1000, l 320: 100');
  assert.ok(Number.isNaN(f.cpuUsPerPacket), 'no packets: no per-packet figure');
});

test('time to 1280: median and slowest, or how many never got there', () => {
  assert.equal(describeTo1280([1.5, 0.5, 2], 25), '1.5 / 2.0 s');
  assert.equal(describeTo1280([1, null], 25), '1.0 / >25 s (1 never)');
  assert.equal(describeTo1280([null], 25), 'never (>25 s)');
  assert.equal(describeTo1280([], 25), '–');
});

test('the window edges take the samples inside it', () => {
  const s = [at(1, {}), at(5, {}), at(9, {})];
  assert.equal(sampleFrom(s, 4)?.at, 5);
  assert.equal(sampleUntil(s, 8)?.at, 5);
  assert.equal(sampleFrom(s, 10)?.at, 9);
  assert.equal(sampleUntil(s, 0)?.at, 1);
});

test("Janus's configuration: its own folders, the HTTP API on loopback, ICE on lo, a room with room for three layers", () => {
  const files = janusConfigFiles('/tmp/x', 18088, [20000, 20099], { eventLoops: 2 });
  const core = files['janus.jcfg'];
  assert.match(core, /plugins_folder = "\/tmp\/x\/plugins"/);
  assert.match(core, /ice_enforce_list = "lo"/);
  assert.match(core, /rtp_port_range = "20000-20099"/);
  assert.match(core, /event_loops = 2/);
  assert.doesNotMatch(core, /stun_server/);
  assert.doesNotMatch(janusConfigFiles('/tmp/x', 1, [1, 2])['janus.jcfg'], /event_loops/);
  assert.match(files['janus.transport.http.jcfg'], /port = 18088/);
  assert.match(files['janus.transport.http.jcfg'], /ip = "127.0.0.1"/);
  const room = files['janus.plugin.videoroom.jcfg'];
  assert.match(room, new RegExp(`room-${JANUS_ROOM}: \\{`));
  assert.match(room, new RegExp(`bitrate = ${JANUS_ROOM_BITRATE}`));
  assert.ok(JANUS_ROOM_BITRATE > 1_850_000, 'above the three layers together');
  // --janus-bitrate 0: no REMB, the publishers' own estimates alone
  assert.match(janusConfigFiles('/tmp/x', 1, [1, 2], { roomBitrate: 0 })['janus.plugin.videoroom.jcfg'], /bitrate = 0\n/);
});
