// The side-by-side benchmark's reading of audio on the wire (bench/janus/audio-capture.ts): datagrams out of a pcap
// file (Linux cooked v2 over IPv4 and IPv6, as `tcpdump -i any` writes them), and from the Opus RTP in and out of the
// server's ports the senders' and receivers' arrival jitter and how long the server held each packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audioFigures, pcapDatagrams, OPUS_PT } from '../../bench/janus/audio-capture.ts';

function rtp(pt: number, seq: number, ts: number, ssrc: number): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ts, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

/** A pcap file (LINUX_SLL2, microseconds) of UDP datagrams. */
function pcap(datagrams: { t: number; src: number; dst: number; payload: Buffer; v6?: boolean }[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(276, 20);
  const records = datagrams.map((d) => {
    const udp = Buffer.alloc(8 + d.payload.length);
    udp.writeUInt16BE(d.src, 0);
    udp.writeUInt16BE(d.dst, 2);
    d.payload.copy(udp, 8);
    const ip = Buffer.alloc(d.v6 ? 40 : 20);
    if (d.v6) {
      ip[0] = 0x60;
      ip[6] = 17;
    } else {
      ip[0] = 0x45;
      ip[9] = 17;
    }
    const frame = Buffer.concat([Buffer.alloc(20), ip, udp]);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(Math.floor(d.t), 0);
    rec.writeUInt32LE(Math.round((d.t % 1) * 1e6), 4);
    rec.writeUInt32LE(frame.length, 8);
    rec.writeUInt32LE(frame.length, 12);
    return Buffer.concat([rec, frame]);
  });
  return Buffer.concat([head, ...records]);
}

test('pcap datagrams: IPv4 and IPv6 UDP from a cooked capture, with their times and ports', () => {
  const file = pcap([
    { t: 10.5, src: 5000, dst: 10000, payload: Buffer.from('abc') },
    { t: 10.75, src: 10000, dst: 6000, payload: Buffer.from('de'), v6: true },
  ]);
  const d = pcapDatagrams(file);
  assert.equal(d.length, 2);
  assert.deepEqual(
    d.map((x) => [x.t, x.srcPort, x.dstPort, x.payload.toString()]),
    [
      [10.5, 5000, 10000, 'abc'],
      [10.75, 10000, 6000, 'de'],
    ],
  );
  assert.throws(() => pcapDatagrams(Buffer.alloc(24)), /not a little-endian pcap/);
});

test('audio on the wire: jitter in and out per stream, the time the server held each packet; other traffic ignored', () => {
  const server = 10000;
  const list: { t: number; src: number; dst: number; payload: Buffer }[] = [];
  // one sender, 20 ms packets (960 ticks at 48 kHz); the 5th arrives 8 ms late; the server sends each to two
  // receivers 1 ms after it came, the 10th held 15 ms for one of them (still before the 11th)
  for (let i = 0; i < 20; i++) {
    const t = 100 + i * 0.02 + (i === 4 ? 0.008 : 0);
    const p = rtp(OPUS_PT, 500 + i, 9600 + i * 960, 7);
    list.push({ t, src: 5000, dst: server, payload: p });
    list.push({ t: t + 0.001, src: server, dst: 6001, payload: p });
    list.push({ t: t + (i === 9 ? 0.015 : 0.001), src: server, dst: 6002, payload: p });
  }
  list.push({ t: 100.1, src: 5000, dst: server, payload: rtp(96, 1, 1, 8) }); // video: not audio
  list.push({ t: 100.1, src: 5000, dst: 7777, payload: rtp(OPUS_PT, 1, 1, 9) }); // not the server's
  list.sort((a, b) => a.t - b.t);
  const f = audioFigures(pcapDatagrams(pcap(list)), new Set([server]));
  assert.equal(f.packetsIn, 20);
  assert.equal(f.packetsOut, 40);
  assert.ok(Math.abs(f.sendersJitterP99Ms - 8) < 0.01, `the late packet: 8 ms, got ${f.sendersJitterP99Ms}`);
  assert.ok(Math.abs(f.receiversJitterP99Ms - 14) < 0.01, `out: the held packet's 14 ms more, got ${f.receiversJitterP99Ms}`);
  assert.ok(f.heldMs !== null);
  assert.ok(Math.abs(f.heldMs.p50 - 1) < 0.01 && Math.abs(f.heldMs.max - 15) < 0.01, JSON.stringify(f.heldMs));
  // a server that renumbers: nothing out matches anything in
  const renumbered = list.map((d) => (d.src === server ? { ...d, payload: rtp(OPUS_PT, d.payload.readUInt16BE(2) + 1000, 0, 99) } : d));
  assert.equal(audioFigures(pcapDatagrams(pcap(renumbered)), new Set([server])).heldMs, null);
});
