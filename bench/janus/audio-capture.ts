// The side-by-side benchmark's look at audio on the wire (`--capture`): tcpdump records every UDP datagram of the
// window on all interfaces (loopback included), and `audioFigures` reads the Opus RTP in and out of the server's
// ports (RTP headers are not encrypted by SRTP):
//  - senders' jitter: per stream into the server, each packet's arrival after the one before it less the media time
//    between them (RTP timestamps at 48 kHz; a packet that came before the one it follows is left out); the 99th
//    percentile, ms. What the publishers' browsers sent.
//  - receivers' jitter: the same per stream and receiving port out of the server. What the receivers' jitter
//    buffers see: the senders' jitter and what the server added.
//  - held: for each packet out whose SSRC and sequence number came in (a server that forwards audio as it is, as
//    Tertulia does; Janus renumbers, so none), how long after its arrival it left; median, 99th percentile, max.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Opus's payload type in both servers' sessions (Chrome's offer). */
export const OPUS_PT = 111;
const OPUS_CLOCK_KHZ = 48;

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface AudioFigures {
  /** Opus packets into and out of the server in the capture. */
  packetsIn: number;
  packetsOut: number;
  sendersJitterP99Ms: number;
  receiversJitterP99Ms: number;
  /** null when no packet out matched one in (a server that renumbers audio). */
  heldMs: Percentiles | null;
}

export interface Datagram {
  /** Seconds. */
  t: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** The UDP datagrams of a pcap file (Ethernet, Linux cooked v1/v2 or raw IP links; IPv4 and IPv6). */
export function pcapDatagrams(file: Buffer): Datagram[] {
  if (file.length < 24) return [];
  const magic = file.readUInt32LE(0);
  const nano = magic === 0xa1b23c4d;
  if (!nano && magic !== 0xa1b2c3d4) throw new Error('not a little-endian pcap file');
  const link = file.readUInt32LE(20);
  const linkHeader = link === 1 ? 14 : link === 113 ? 16 : link === 276 ? 20 : link === 101 || link === 12 ? 0 : -1;
  if (linkHeader < 0) throw new Error(`pcap link type ${link} not read`);
  const out: Datagram[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const t = file.readUInt32LE(at) + file.readUInt32LE(at + 4) / (nano ? 1e9 : 1e6);
    const captured = file.readUInt32LE(at + 8);
    const frame = file.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    const ip = frame.subarray(linkHeader);
    if (ip.length < 1) continue;
    let udp: Buffer;
    if (ip[0] >> 4 === 4 && ip.length >= 28 && ip[9] === 17) udp = ip.subarray((ip[0] & 15) * 4);
    else if (ip[0] >> 4 === 6 && ip.length >= 48 && ip[6] === 17) udp = ip.subarray(40);
    else continue;
    if (udp.length < 8) continue;
    out.push({ t, srcPort: udp.readUInt16BE(0), dstPort: udp.readUInt16BE(2), payload: udp.subarray(8) });
  }
  return out;
}

function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), max: v.at(-1) ?? NaN };
}

/** The figures above from a capture's datagrams, the server's UDP ports given. */
export function audioFigures(datagrams: Datagram[], serverPorts: ReadonlySet<number>, pt = OPUS_PT): AudioFigures {
  const arrived = new Map<string, number>();
  const last = new Map<string, { t: number; ts: number }>();
  const senders: number[] = [];
  const receivers: number[] = [];
  const held: number[] = [];
  let packetsIn = 0;
  let packetsOut = 0;
  for (const d of datagrams) {
    const p = d.payload;
    // RTP version 2, not RTCP (payload types 72-79 with the marker bit: RTCP packet types 200-207)
    if (p.length < 12 || p[0] >> 6 !== 2 || (p[1] & 0x7f) !== pt) continue;
    const inbound = serverPorts.has(d.dstPort);
    if (!inbound && !serverPorts.has(d.srcPort)) continue;
    const seq = p.readUInt16BE(2);
    const ts = p.readUInt32BE(4);
    const ssrc = p.readUInt32BE(8);
    const stream = inbound ? `in ${ssrc}` : `out ${ssrc} ${d.dstPort}`;
    const before = last.get(stream);
    if (before !== undefined) {
      const mediaMs = ((ts - before.ts) >>> 0) / OPUS_CLOCK_KHZ;
      if (mediaMs < 1000) (inbound ? senders : receivers).push((d.t - before.t) * 1000 - mediaMs);
    }
    last.set(stream, { t: d.t, ts });
    if (inbound) {
      packetsIn++;
      arrived.set(`${ssrc} ${seq}`, d.t);
    } else {
      packetsOut++;
      const t0 = arrived.get(`${ssrc} ${seq}`);
      if (t0 !== undefined) held.push((d.t - t0) * 1000);
    }
  }
  return {
    packetsIn,
    packetsOut,
    sendersJitterP99Ms: percentiles(senders).p99,
    receiversJitterP99Ms: percentiles(receivers).p99,
    heldMs: held.length > 0 ? percentiles(held) : null,
  };
}

/** The UDP ports process `pid` has open (`ss`), for `audioFigures`. */
export function udpPortsOf(pid: number): Set<number> {
  const ports = new Set<number>();
  const text = execFileSync('ss', ['-H', '-u', '-a', '-n', '-p'], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const local = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(local.slice(local.lastIndexOf(':') + 1));
    if (Number.isInteger(port) && port > 0) ports.add(port);
  }
  return ports;
}

/** tcpdump recording every UDP datagram's first 200 bytes until stopped; `stop` gives the pcap file's bytes. */
export async function startCapture(): Promise<{ stop(): Promise<Buffer> }> {
  const file = path.join(os.tmpdir(), `tertulia-capture-${process.pid}-${Date.now()}.pcap`);
  const child: ChildProcess = spawn('tcpdump', ['-i', 'any', '-s', '200', '-w', file, '-U', 'udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  // tcpdump says "listening on any" once it captures
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr!.on('data', () => err.includes('listening on') && (clearTimeout(timer), resolve()));
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`tcpdump exited (${code}): ${err.trim()}`))));
  });
  return {
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGINT');
        await exited;
      }
      try {
        return readFileSync(file);
      } finally {
        rmSync(file, { force: true });
      }
    },
  };
}
